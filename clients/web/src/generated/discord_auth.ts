// Generated from docs/openapi/discord_auth.yaml by `npm run generate` (clients/web): do not edit.
// tests/test_web_client.py fails when this file and the document disagree.

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Reachability of Redis (the per-user budgets every HTTP function carries) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description ok */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description Redis is down */
                503: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/config": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** How to send a member to Discord's authorize page (cacheable for 5 minutes) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description the OAuth2 client's public settings */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description the Discord application's OAuth2 client id */
                            clientId: string;
                            /**
                             * Format: uri
                             * @example https://discord.com/oauth2/authorize
                             */
                            authorizeUrl: string;
                            /**
                             * @example [
                             *       "identify"
                             *     ]
                             */
                            scopes: string[];
                            /** @enum {string} */
                            codeChallengeMethod: "S256";
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/session": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Trade an authorization code for a Firebase custom token of that Discord member */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description from Discord's redirect */
                        code: string;
                        /** @description the PKCE verifier whose S256 challenge went to the authorize page (RFC 7636) */
                        codeVerifier: string;
                        /** @description exactly the redirect_uri sent to the authorize page; https (http only for localhost) */
                        redirectUri: string;
                    };
                };
            };
            responses: {
                /** @description signed in */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description for signInWithCustomToken; valid 1 hour */
                            customToken: string;
                            discordId: string;
                            /** @example discord:284102390000000001 */
                            uid: string;
                            /** @description the guild nickname */
                            name: string;
                            /** @description holds the configured staff role in the guild */
                            staff: boolean;
                        };
                    };
                };
                /** @description invalid_argument / invalid_json (error.field names the field), or invalid_grant: the code is unknown, expired, already used, for another redirect URI, or does not match the verifier */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description not_guild_member — the Discord account is not a member of the community's server */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description body over 64 KiB */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description not application/json */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description discord_refused — Discord refused a call that should succeed (check the client secret and bot token) */
                502: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
                /** @description discord_unavailable — Discord did not answer or rate-limited us; Retry-After says when to retry */
                503: {
                    headers: {
                        "Retry-After"?: number;
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Error"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        Error: {
            error: {
                code: string;
                message: string;
                field?: string;
            };
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
