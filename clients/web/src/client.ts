// A thin fetch client over the generated OpenAPI types: one typed `request(api, method, path, ...)`
// for every documented route, and named helpers for the routes a web app calls most.
//
//   const api = createClient({ baseUrl: "http://127.0.0.1:8000", getIdToken: () => user.getIdToken() });
//   const ticket = await api.matching.joinQueue({ gender: "female" });      // typed Ticket
//   const { data, headers } = await api.request("invitations_api", "get", "/invitations",
//                                               { query: { tag: "ゲーム" } });
//
// Each call sends the caller's Firebase ID token (`Authorization: Bearer`) when `getIdToken` gives
// one, JSON in and out, and throws `ApiError` for every non-2xx answer. Retry-After: a GET answered
// 429 or 503 with a Retry-After of at most `autoRetryMaxS` seconds is retried once, after that wait;
// nothing else is retried automatically (a POST may have had an effect the UI should know about):
// the error carries `retryAfterS` for the UI to wait and offer a retry.

import { ApiError, errorFrom } from "./errors.js";
import type { paths as AccountApi } from "./generated/account_api.js";
import type { paths as DiscordAuth } from "./generated/discord_auth.js";
import type { paths as InvitationsApi } from "./generated/invitations_api.js";
import type { paths as IssueTokens, components as IssueTokensComponents } from "./generated/issue_tokens.js";
import type { paths as MatchingApi, components as MatchingComponents } from "./generated/matching_api.js";
import type { components as InvitationsComponents } from "./generated/invitations_api.js";

/** Each HTTP function by its name, which is also its path prefix under the base URL. */
export interface Apis {
  matching_api: MatchingApi;
  issue_tokens: IssueTokens;
  invitations_api: InvitationsApi;
  account_api: AccountApi;
  discord_auth: DiscordAuth;
}
export type ApiName = keyof Apis;
export type Method = "get" | "post" | "put" | "patch" | "delete";

/** The paths of `A` that have method `M`. */
export type PathsWith<A extends ApiName, M extends Method> = {
  [P in keyof Apis[A]]: Apis[A][P] extends { [K in M]: unknown } ? P : never;
}[keyof Apis[A]];

/** The generated operation object of `A`'s `M P`. */
export type Operation<A extends ApiName, M extends Method, P extends keyof Apis[A]> =
  Apis[A][P] extends { [K in M]: infer O } ? O : never;

type Empty = Record<never, never>;
type NonEmpty<T> = [Exclude<T, undefined>] extends [never] ? false : true;

type PathOption<O> = O extends { parameters: { path: infer P } } ? { path: P } : Empty;
type QueryOption<O> = O extends { parameters: { query?: infer Q } }
  ? NonEmpty<Q> extends true
    ? { query?: Exclude<Q, undefined> }
    : Empty
  : Empty;
type JsonBody<B> = B extends { content: { "application/json": infer J } } ? J : never;
type BodyOption<O> = O extends { requestBody: infer B }
  ? { body: JsonBody<B> }
  : O extends { requestBody?: infer B }
    ? NonEmpty<B> extends true
      ? { body?: JsonBody<Exclude<B, undefined>> }
      : Empty
    : Empty;

/** What a call of `M P` takes: path parameters, query, body, each only when the route has them. */
export type RequestOptions<O> = PathOption<O> &
  QueryOption<O> &
  BodyOption<O> & { signal?: AbortSignal; headers?: Record<string, string> };

type SuccessStatus = 200 | 201 | 202 | 204;
type JsonContent<R> = R extends { content: { "application/json": infer J } } ? J : undefined;
/** The JSON of the route's 2xx answers (a union when it documents several). */
export type SuccessBody<O> = O extends { responses: infer R }
  ? { [S in keyof R & SuccessStatus]: JsonContent<R[S]> }[keyof R & SuccessStatus]
  : never;

export interface ApiResult<T> {
  data: T;
  status: number;
  /** readable cross-origin: Retry-After, X-Cache (and the CORS-safelisted ones) */
  headers: Headers;
}

// `request(...)`'s last argument is optional exactly when the route needs nothing.
type OptionsArg<O> = Empty extends RequestOptions<O> ? [options?: RequestOptions<O>] : [options: RequestOptions<O>];

export interface ClientOptions {
  /** Where the functions are: the local gateway (stack.json's gatewayUrl) or
   * https://REGION-PROJECT.cloudfunctions.net; or a function of the API name for other layouts. */
  baseUrl: string | ((api: ApiName) => string);
  /** The signed-in user's Firebase ID token (`auth.currentUser?.getIdToken()`), or null. */
  getIdToken: () => Promise<string | null | undefined> | string | null | undefined;
  fetch?: typeof fetch;
  /** GETs answered 429/503 with Retry-After up to this many seconds are retried once (default 5; 0: never). */
  autoRetryMaxS?: number;
  /** How to wait (tests replace it). */
  sleep?: (ms: number) => Promise<void>;
}

type Ticket = MatchingComponents["schemas"]["Ticket"];
type SelectRoom = MatchingComponents["schemas"]["SelectRoom"];
type LiveKitToken = IssueTokensComponents["schemas"]["LiveKitToken"];
type InvitationPage = InvitationsComponents["schemas"]["InvitationPage"];
type Invitation = InvitationsComponents["schemas"]["Invitation"];

export type Client = ReturnType<typeof createClient>;

export function createClient(options: ClientOptions) {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const autoRetryMaxS = options.autoRetryMaxS ?? 5;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((done) => setTimeout(done, ms)));
  const baseOf = (api: ApiName): string =>
    typeof options.baseUrl === "function" ? options.baseUrl(api) : `${options.baseUrl.replace(/\/+$/, "")}/${api}`;

  async function request<A extends ApiName, M extends Method, P extends PathsWith<A, M> & string>(
    api: A,
    method: M,
    path: P,
    ...[opts]: OptionsArg<Operation<A, M, P>>
  ): Promise<ApiResult<SuccessBody<Operation<A, M, P>>>> {
    const given = (opts ?? {}) as {
      path?: Record<string, string | number>;
      query?: Record<string, string | number | boolean | undefined>;
      body?: unknown;
      signal?: AbortSignal;
      headers?: Record<string, string>;
    };
    const url = baseOf(api) + fillPath(path, given.path) + queryString(given.query);
    const headers: Record<string, string> = { Accept: "application/json", ...given.headers };
    const token = await options.getIdToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    const init: RequestInit = { method: method.toUpperCase(), headers, signal: given.signal };
    if (given.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(given.body);
    }
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await doFetch(url, init);
      } catch (cause) {
        if (given.signal?.aborted) throw cause;
        // A refused CORS preflight looks the same as being offline: fetch only says TypeError.
        throw new ApiError(0, "network_error", `${method.toUpperCase()} ${url}: ${String(cause)}`);
      }
      if (response.ok) {
        const text = await response.text();
        const data = (text ? JSON.parse(text) : undefined) as SuccessBody<Operation<A, M, P>>;
        return { data, status: response.status, headers: response.headers };
      }
      const error = await errorFrom(response);
      const waitS = error.retryAfterS;
      if (
        method === "get" &&
        attempt === 0 &&
        (error.status === 429 || error.status === 503) &&
        waitS !== undefined &&
        waitS <= autoRetryMaxS
      ) {
        await sleep(waitS * 1000);
        continue;
      }
      throw error;
    }
  }

  async function data<T>(result: Promise<ApiResult<T>>): Promise<T> {
    return (await result).data;
  }

  return {
    request,
    /** matching_api: the random queue, select rooms, presence (docs/openapi/matching_api.yaml). */
    matching: {
      /** 202 Ticket; wait for users/{uid}.currentRoomId. Again before `expiresAt` to keep the place. */
      joinQueue: (preferences: Ticket["preferences"] = {}): Promise<Ticket> =>
        data(request("matching_api", "post", "/queue", { body: { preferences } })) as Promise<Ticket>,
      leaveQueue: () => data(request("matching_api", "delete", "/queue")),
      createRoom: (maxParticipants: number): Promise<SelectRoom> =>
        data(request("matching_api", "post", "/rooms", { body: { maxParticipants } })) as Promise<SelectRoom>,
      joinRoom: (roomCode: string) => data(request("matching_api", "post", "/rooms/join", { body: { roomCode } })),
      leaveRoom: (roomId: string) =>
        data(request("matching_api", "post", "/rooms/{roomId}/leave", { path: { roomId } })),
      heartbeat: (status: "online" | "offline") =>
        data(request("matching_api", "post", "/presence", { body: { status } })),
    },
    /** issue_tokens: LiveKit and WebSocket tokens for a room the caller is in (docs/tokens.md). */
    tokens: {
      /** `room` in the answer is the LiveKit room name (rooms/{id}.livekitRoomName), not the room id. */
      livekit: (roomId: string): Promise<LiveKitToken> =>
        data(request("issue_tokens", "post", "/livekit-token", { body: { roomId } })) as Promise<LiveKitToken>,
      /** For `${realtimeUrl}/rooms/${roomId}?access_token=${token}`; single use, at most 5 minutes. */
      ws: (roomId?: string) =>
        data(request("issue_tokens", "post", "/ws-token", roomId === undefined ? {} : { body: { roomId } })),
    },
    /** invitations_api: meetup invitations (docs/invitations.md). */
    invitations: {
      list: (query: NonNullable<InvitationsApi["/invitations"]["get"]["parameters"]["query"]> = {}) =>
        request("invitations_api", "get", "/invitations", { query }) as Promise<ApiResult<InvitationPage>>,
      get: (invitationId: string): Promise<Invitation> =>
        data(request("invitations_api", "get", "/invitations/{invitationId}", { path: { invitationId } })),
    },
  };
}

function fillPath(template: string, values: Record<string, string | number> | undefined): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values?.[name];
    if (value === undefined) throw new TypeError(`path parameter ${name} is missing for ${template}`);
    return encodeURIComponent(String(value));
  });
}

function queryString(query: Record<string, string | number | boolean | undefined> | undefined): string {
  if (!query) return "";
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    // The API refuses an empty parameter: an unset one is left out.
    if (value !== undefined && value !== "") params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}
