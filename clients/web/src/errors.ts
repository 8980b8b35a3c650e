// Every error of every HTTP function is `{"error": {"code", "message", "field"?, ...}}` with a 4xx/5xx.
// `ApiError` carries it, plus `Retry-After` when the server sent one. What each code means for a UI,
// route by route: docs/frontend.md ("Errors").

/** The codes the backend sends (a string outside this list is still passed through). */
export type ErrorCode =
  // the request itself
  | "invalid_argument" // 400: does not match the document; `field` names what
  | "invalid_json" // 400: the body is not a JSON object
  | "payload_too_large" // 413
  | "unsupported_media_type" // 415
  | "unprocessable" // 422: matches the document but cannot be carried out; `field` names what
  | "method_not_allowed" // 405
  // who is asking
  | "unauthenticated" // 401: missing, expired or invalid ID token
  | "permission_denied" // 403
  | "suspended" // 403, with `until`
  | "adult_confirmation_required" // 403: users/{uid}.adultConfirmedAt is not set
  | "discord_link_required" // 403: invitations as a member need a Discord sign-in
  | "profile_required" // 403: users/{uid} does not exist yet
  | "not_guild_member" // 403 (discord_auth)
  // state
  | "not_found" // 404 (a full select room looks the same as a missing one)
  | "already_in_room" // 409
  | "room_closed" // 409
  | "already_exists"
  | "invitation_full"
  | "final_state"
  | "below_joined"
  | "already_closed"
  | "already_reported"
  | "already_resolved"
  | "too_many_blocks"
  | "invalid_grant" // 400 (discord_auth)
  // come back later (Retry-After)
  | "rate_limited" // 429: the caller's budget for the route is spent
  | "concurrent_request" // 429: another request of the caller holds its lock
  | "busy" // 503: the documents stayed contended
  | "unavailable" // 503: a store did not answer
  | "discord_unavailable" // 503
  | "discord_refused" // 502
  | "internal" // 500
  | "misconfigured" // 500
  // the client's own
  | "network_error" // status 0: fetch failed (offline, DNS, CORS refusal)
  | "http_error"; // a non-JSON error answer (a proxy's page)

export interface ErrorBody {
  error: { code: string; message: string; field?: string; until?: string | null; [extra: string]: unknown };
}

export class ApiError extends Error {
  override readonly name = "ApiError";

  constructor(
    /** HTTP status; 0 when no answer arrived */
    readonly status: number,
    readonly code: ErrorCode | (string & {}),
    message: string,
    /** the offending request field (400, 422) */
    readonly field?: string,
    /** seconds to wait before trying again (429, 503), from the Retry-After header */
    readonly retryAfterS?: number,
    /** `suspended` only: RFC 3339 end of the suspension, or null until staff lift it */
    readonly until?: string | null,
    /** the parsed error body, for anything not above */
    readonly body?: unknown,
  ) {
    super(message);
  }

  /** Whether trying the same request again later can succeed. */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status === 503 || this.status >= 500;
  }
}

/** Seconds from a Retry-After header: delta-seconds or an HTTP date (RFC 9110); undefined if absent. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The ApiError of a non-2xx answer (its body is read here). */
export async function errorFrom(response: Response): Promise<ApiError> {
  const retryAfterS = parseRetryAfter(response.headers.get("Retry-After"));
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  if (isErrorBody(body)) {
    const { code, message, field, until } = body.error;
    return new ApiError(response.status, code, message, field, retryAfterS, until, body);
  }
  return new ApiError(
    response.status,
    "http_error",
    `HTTP ${response.status} ${response.statusText}`.trim(),
    undefined,
    retryAfterS,
    undefined,
    body,
  );
}

function isErrorBody(body: unknown): body is ErrorBody {
  if (typeof body !== "object" || body === null || !("error" in body)) return false;
  const error = (body as { error: unknown }).error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}
