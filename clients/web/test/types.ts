// Compile-time checks of the typed client: `tsc --noEmit` fails when a line marked @ts-expect-error
// compiles (the types let a wrong call through) or an unmarked one does not.
import { createClient, type RoomDoc, type SuccessBody, type Operation, type NewUserDoc } from "../src/index.js";

declare const fetchStub: typeof fetch;
const api = createClient({ baseUrl: "http://127.0.0.1:8000", getIdToken: () => "token", fetch: fetchStub });

export async function checks(): Promise<void> {
  // answers are typed from the documents
  const ticket = await api.matching.joinQueue({ gender: "female" });
  const place: string = ticket.createdAt;
  const token = await api.tokens.livekit("room-1");
  const livekitRoom: string = token.room;
  const left = await api.request("matching_api", "post", "/rooms/{roomId}/leave", { path: { roomId: "r" } });
  const leftFlag: boolean = left.data.left;
  const page = await api.invitations.list({ tag: "ゲーム", limit: 10 });
  const cache: string | null = page.headers.get("X-Cache");
  const first: string | undefined = page.data.items[0]?.startTime;
  await api.request("matching_api", "delete", "/queue");
  await api.request("account_api", "put", "/users/{userId}/suspension", {
    path: { userId: "u" },
    body: { until: null, reason: "spam" },
  });
  void [place, livekitRoom, leftFlag, cache, first];

  // @ts-expect-error no such route
  await api.request("matching_api", "get", "/queue");
  // @ts-expect-error the path parameter is required
  await api.request("matching_api", "post", "/rooms/{roomId}/leave");
  // @ts-expect-error maxParticipants is a number
  await api.request("matching_api", "post", "/rooms", { body: { maxParticipants: "2" } });
  // @ts-expect-error the body is required
  await api.request("issue_tokens", "post", "/livekit-token");
  // @ts-expect-error unknown gender
  await api.matching.joinQueue({ gender: "robot" });
  // @ts-expect-error unknown tag
  await api.invitations.list({ tag: "sports" });
}

// the 202 of POST /queue is the Ticket
type QueueAnswer = SuccessBody<Operation<"matching_api", "post", "/queue">>;
export const expiresAt = (answer: QueueAnswer): string => answer.expiresAt;

// Firestore: server-owned fields are not writable
declare const serverTime: { readonly brand: "FieldValue" };
export const profile: NewUserDoc<typeof serverTime> = {
  displayName: "Alice",
  username: "alice",
  status: "online",
  createdAt: serverTime,
  lastActiveAt: serverTime,
  adultConfirmedAt: serverTime,
};
export const refused: NewUserDoc<typeof serverTime> = {
  ...profile,
  // @ts-expect-error currentRoomId is the server's
  currentRoomId: "r",
};
// @ts-expect-error `in_call` is not a status a client writes
export const inCall: NewUserDoc<typeof serverTime> = { ...profile, status: "in_call" };
export const roomName = (room: RoomDoc): string => room.livekitRoomName;
