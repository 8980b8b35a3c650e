// Generated from docs/openapi/invitations_api.yaml by `npm run generate` (clients/web): do not edit.
// tests/test_web_client.py fails when this file and the document disagree.

export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Reachability and latency of PostgreSQL and Redis */
        get: operations["healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/invitations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List invitations by status (default recruiting) and tag, ordered by start time (Q1; cached 60 s) */
        get: operations["listInvitations"];
        put?: never;
        /**
         * Create an invitation; the caller is the host
         * @description Budget RATE_LIMIT_INVITATION_WRITES_PER_MIN (10) a minute per user, shared with PATCH and cancel.
         */
        post: operations["createInvitation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/invitations/{invitationId}": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                invitationId: components["parameters"]["InvitationId"];
            };
            cookie?: never;
        };
        /** One invitation with its participants and joined count (Q2) */
        get: operations["getInvitation"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /**
         * Change an invitation (host or staff) while it is not completed or cancelled
         * @description Fields left out stay as they are; a nullable field sent as null is cleared. Budget
         *     RATE_LIMIT_INVITATION_WRITES_PER_MIN (10) a minute per user.
         */
        patch: operations["updateInvitation"];
        trace?: never;
    };
    "/invitations/{invitationId}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                invitationId: components["parameters"]["InvitationId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel (host or staff); repeating it is a no-op, a completed invitation is 409 */
        post: operations["cancelInvitation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/invitations/{invitationId}/participants": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                invitationId: components["parameters"]["InvitationId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Join (takes a seat) or mark interested; 409 invitation_full when every seat is taken
         * @description Budget RATE_LIMIT_PARTICIPATION_PER_MIN (20) a minute per user, shared with leaving.
         */
        post: operations["joinInvitation"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/invitations/{invitationId}/participants/me": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                invitationId: components["parameters"]["InvitationId"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Leave; a full invitation becomes recruiting again */
        delete: operations["leaveInvitation"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/me/participations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's participations, newest start first, without cancelled invitations (Q3) */
        get: operations["myParticipations"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tickets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Tickets in one status, newest first (staff only) */
        get: operations["listTickets"];
        put?: never;
        /**
         * Open a support ticket
         * @description Budget RATE_LIMIT_SUPPORT_TICKETS_PER_MIN (5) a minute per user, shared with closing.
         */
        post: operations["openTicket"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tickets/mine": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's tickets, newest first */
        get: operations["myTickets"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/tickets/{ticketId}/close": {
        parameters: {
            query?: never;
            header?: never;
            path: {
                ticketId: components["schemas"]["Snowflake"];
            };
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Close a ticket (staff only) */
        post: operations["closeTicket"];
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
        /** @description a Discord id */
        Snowflake: string;
        /** @enum {string} */
        Tag: "観光" | "ゲーム" | "まったり" | "撮影会" | "イベント" | "その他";
        /** @enum {string} */
        InvitationStatus: "recruiting" | "full" | "completed" | "cancelled";
        /** @enum {string} */
        InstanceType: "group" | "friend" | "friendplus" | "public";
        /**
         * Format: date-time
         * @description RFC 3339 with a zone (Z or +09:00), years 2000-2099
         */
        RequestTime: string;
        /**
         * Format: date-time
         * @description RFC 3339, UTC, milliseconds
         */
        Time: string;
        NextCursor: string | null;
        /** @description one line, no control characters, not blank */
        Name: string;
        /** @description one line, no control characters, not blank */
        Title: string;
        /** @description line breaks and tabs allowed, other control characters not */
        Description: string;
        /** @description an https URL with a host, printable ASCII (percent-encode the rest) */
        HttpsUrl: string;
        VrchatUrl: string;
        Error: {
            error: {
                code: string;
                message: string;
                field?: string;
            };
        };
        Health: {
            function: string;
            /** @enum {string} */
            status: "ok" | "degraded";
            stores: Record<string, never>;
        };
        NewInvitation: {
            id: components["schemas"]["Snowflake"];
            threadId: components["schemas"]["Snowflake"];
            staffMessageId?: components["schemas"]["Snowflake"] | null;
            /** @description defaults to the token's name, else the caller's id */
            hostName?: components["schemas"]["Name"];
            eventName: components["schemas"]["Title"];
            startTime: components["schemas"]["RequestTime"];
            /** @description after startTime and in the future (else 422) */
            endTime: components["schemas"]["RequestTime"];
            worldName: components["schemas"]["Title"];
            worldLink?: components["schemas"]["HttpsUrl"] | null;
            tag: components["schemas"]["Tag"];
            description: components["schemas"]["Description"];
            instanceType: components["schemas"]["InstanceType"];
            vrchatProfile?: components["schemas"]["VrchatUrl"] | null;
            instanceLink?: components["schemas"]["HttpsUrl"] | null;
            maxParticipants: number;
        };
        InvitationPatch: {
            eventName?: components["schemas"]["Title"];
            startTime?: components["schemas"]["RequestTime"];
            /** @description after startTime (else 422) */
            endTime?: components["schemas"]["RequestTime"];
            worldName?: components["schemas"]["Title"];
            worldLink?: components["schemas"]["HttpsUrl"] | null;
            tag?: components["schemas"]["Tag"];
            description?: components["schemas"]["Description"];
            instanceType?: components["schemas"]["InstanceType"];
            vrchatProfile?: components["schemas"]["VrchatUrl"] | null;
            instanceLink?: components["schemas"]["HttpsUrl"] | null;
            /** @description not below the joined count (else 409) */
            maxParticipants?: number;
            /** @description staff only (else 403) */
            staffMessageId?: components["schemas"]["Snowflake"] | null;
            /** @description staff only (else 403); true makes the caller the invitation's staff */
            assignStaff?: boolean;
            /** @description staff only (else 403), with assignStaff: true */
            staffName?: components["schemas"]["Name"];
        };
        InvitationSummary: {
            id: components["schemas"]["Snowflake"];
            eventName: string;
            startTime: components["schemas"]["Time"];
            endTime: components["schemas"]["Time"];
            tag: components["schemas"]["Tag"];
            status: components["schemas"]["InvitationStatus"];
            worldName: string;
            hostName: string;
            instanceType: components["schemas"]["InstanceType"];
            maxParticipants: number;
            joinedCount: number;
        };
        Invitation: components["schemas"]["InvitationSummary"] & {
            threadId: components["schemas"]["Snowflake"];
            staffMessageId: string | null;
            hostId: string;
            worldLink: string | null;
            description: string;
            /** @description decrypted; only for the host */
            vrchatProfile: string | null;
            /** @description decrypted; only for the host */
            instanceLink: string | null;
            staffId: string | null;
            staffName: string | null;
            createdAt: components["schemas"]["Time"];
            updatedAt: components["schemas"]["Time"];
            participants: {
                userId: string;
                userName: string;
                /** @enum {string} */
                status: "joined" | "interested";
                since: components["schemas"]["Time"];
            }[];
        };
        InvitationPage: {
            items: components["schemas"]["InvitationSummary"][];
            nextCursor: components["schemas"]["NextCursor"];
        };
        Participation: {
            invitationId: components["schemas"]["Snowflake"];
            userId: string;
            /**
             * @description null after leaving
             * @enum {string|null}
             */
            status: "joined" | "interested" | null;
            joinedCount: number;
            invitationStatus: components["schemas"]["InvitationStatus"];
        };
        ParticipationHistoryItem: {
            invitationId: components["schemas"]["Snowflake"];
            eventName: string;
            startTime: components["schemas"]["Time"];
            endTime: components["schemas"]["Time"];
            tag: components["schemas"]["Tag"];
            invitationStatus: components["schemas"]["InvitationStatus"];
            /** @enum {string} */
            status: "joined" | "interested";
            since: components["schemas"]["Time"];
        };
        Ticket: {
            id: components["schemas"]["Snowflake"];
            userId: string;
            userName: string;
            /** @enum {string} */
            category: "question" | "trouble" | "other";
            /** @enum {string} */
            status: "open" | "closed";
            createdAt: components["schemas"]["Time"];
            closedAt: components["schemas"]["Time"] | null;
        };
        TicketPage: {
            items: components["schemas"]["Ticket"][];
            nextCursor: components["schemas"]["NextCursor"];
        };
    };
    responses: {
        /** @description the request does not match this document (code `invalid_argument` or `invalid_json`); `field` names it */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the request matches this document but cannot be carried out (code `unprocessable`); `field` names what */
        Unprocessable: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the body is over 64 KB (code `payload_too_large`) */
        TooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the body is not `application/json` (code `unsupported_media_type`) */
        NotJson: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description missing or invalid ID token (code `unauthenticated`) */
        Unauthenticated: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description permission_denied (not the host, not staff), or discord_link_required (the account did not sign in with Discord through discord_auth, so it has no `discord_id` claim) */
        Forbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description discord_link_required: the account did not sign in with Discord through discord_auth (no `discord_id` claim); reading invitations works without it, acting as a member does not */
        DiscordLinkRequired: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description no such invitation, ticket or participation (code `not_found`) */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description already_exists, invitation_full, final_state, below_joined or already_closed */
        Conflict: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
        /** @description the caller's budget for this route is spent (code `rate_limited`) */
        TooMany: {
            headers: {
                "Retry-After": components["headers"]["RetryAfter"];
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["Error"];
            };
        };
    };
    parameters: {
        InvitationId: components["schemas"]["Snowflake"];
        /** @description nextCursor of the previous page of the same list (opaque); left out for the first page */
        Cursor: string;
        Limit: number;
    };
    requestBodies: never;
    headers: {
        /** @description seconds to wait before trying again */
        RetryAfter: number;
    };
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description all stores answer */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
            /** @description a store is down */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Health"];
                };
            };
        };
    };
    listInvitations: {
        parameters: {
            query?: {
                status?: components["schemas"]["InvitationStatus"];
                tag?: components["schemas"]["Tag"];
                /** @description nextCursor of the previous page of the same list (opaque); left out for the first page */
                cursor?: components["parameters"]["Cursor"];
                limit?: components["parameters"]["Limit"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description one page; header X-Cache says HIT or MISS */
            200: {
                headers: {
                    "X-Cache": "HIT" | "MISS";
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["InvitationPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthenticated"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["TooMany"];
        };
    };
    createInvitation: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NewInvitation"];
            };
        };
        responses: {
            /** @description created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Invitation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["NotJson"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["TooMany"];
        };
    };
    getInvitation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                invitationId: components["parameters"]["InvitationId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the invitation; vrchatProfile and instanceLink are null unless the caller is the host, staff or joined */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Invitation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthenticated"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["TooMany"];
        };
    };
    updateInvitation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                invitationId: components["parameters"]["InvitationId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["InvitationPatch"];
            };
        };
        responses: {
            /** @description the updated invitation */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Invitation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["NotJson"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["TooMany"];
        };
    };
    cancelInvitation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                invitationId: components["parameters"]["InvitationId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description the cancelled invitation */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Invitation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["TooMany"];
        };
    };
    joinInvitation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                invitationId: components["parameters"]["InvitationId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    /** @enum {string} */
                    status: "joined" | "interested";
                    /** @description defaults to the token's name, else the caller's id */
                    userName?: components["schemas"]["Name"];
                };
            };
        };
        responses: {
            /** @description the caller's participation was changed or already so */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Participation"];
                };
            };
            /** @description the caller was added */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Participation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["DiscordLinkRequired"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["NotJson"];
            429: components["responses"]["TooMany"];
        };
    };
    leaveInvitation: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                invitationId: components["parameters"]["InvitationId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description left */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Participation"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["DiscordLinkRequired"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["TooMany"];
        };
    };
    myParticipations: {
        parameters: {
            query?: {
                /** @description nextCursor of the previous page of the same list (opaque); left out for the first page */
                cursor?: components["parameters"]["Cursor"];
                limit?: components["parameters"]["Limit"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description one page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": {
                        items: components["schemas"]["ParticipationHistoryItem"][];
                        nextCursor: components["schemas"]["NextCursor"];
                    };
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["DiscordLinkRequired"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["TooMany"];
        };
    };
    listTickets: {
        parameters: {
            query?: {
                status?: "open" | "closed";
                /** @description nextCursor of the previous page of the same list (opaque); left out for the first page */
                cursor?: components["parameters"]["Cursor"];
                limit?: components["parameters"]["Limit"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description one page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TicketPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["Forbidden"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["TooMany"];
        };
    };
    openTicket: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": {
                    id: components["schemas"]["Snowflake"];
                    /** @enum {string} */
                    category: "question" | "trouble" | "other";
                    /** @description defaults to the token's name, else the caller's id */
                    userName?: components["schemas"]["Name"];
                };
            };
        };
        responses: {
            /** @description opened */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Ticket"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["DiscordLinkRequired"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            415: components["responses"]["NotJson"];
            429: components["responses"]["TooMany"];
        };
    };
    myTickets: {
        parameters: {
            query?: {
                /** @description nextCursor of the previous page of the same list (opaque); left out for the first page */
                cursor?: components["parameters"]["Cursor"];
                limit?: components["parameters"]["Limit"];
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description one page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["TicketPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["DiscordLinkRequired"];
            422: components["responses"]["Unprocessable"];
            429: components["responses"]["TooMany"];
        };
    };
    closeTicket: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                ticketId: components["schemas"]["Snowflake"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description closed */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["Ticket"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthenticated"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["TooMany"];
        };
    };
}
