// @vchat/client: the V-Chat backend for a web app (docs/frontend.md).
export * from "./client.js";
export * from "./errors.js";
export * from "./firestore.js";
export * as account_api from "./generated/account_api.js";
export * as discord_auth from "./generated/discord_auth.js";
export * as invitations_api from "./generated/invitations_api.js";
export * as issue_tokens from "./generated/issue_tokens.js";
export * as matching_api from "./generated/matching_api.js";
