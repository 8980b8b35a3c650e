// The reference web app: the whole flow of docs/frontend.md on one page, plain TypeScript and the DOM.
//   sign up / sign in (Firebase Auth) -> profile (users/{uid}, written under firestore.rules)
//   -> random match (POST /matching_api/queue; the worker seats the user)
//   -> the room (a listener on the user's open rooms; LiveKit and WebSocket tokens from issue_tokens;
//      the realtime socket) -> leave -> invitations (invitations_api).
// Elements carry data-testid attributes for the browser test (examples/web/e2e/match.mjs).
import "./style.css";
import {
  ApiError,
  collections,
  PRIVATE_PROFILE_ID,
  type NewUserDoc,
  type PrivateProfileDoc,
  type RoomDoc,
  type UserDoc,
  type UserUpdate,
} from "@vchat/client";
import {
  createUserWithEmailAndPassword,
  onAuthStateChanged,
  signInWithEmailAndPassword,
  signOut,
  type User,
} from "firebase/auth";
import {
  collection,
  doc,
  FirestoreError,
  getDoc,
  onSnapshot,
  query,
  serverTimestamp,
  setDoc,
  updateDoc,
  where,
  type FieldValue,
  type Unsubscribe,
} from "firebase/firestore";
import { connect, type Backend } from "./backend";
import { loadConfig } from "./config";

const HEARTBEAT_MS = 20_000; // matching_api's presence: every ~20 s while the app is open
const TICKET_REFRESH_LEAD_MS = 60_000; // re-POST /queue this long before the ticket expires

const el = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`#${id} missing`);
  return found as T;
};
const setText = (id: string, text: string): void => {
  el(id).textContent = text;
};
const show = (id: string, visible: boolean): void => {
  el(id).hidden = !visible;
};

// -- errors: what the user sees ---------------------------------------------------------------------
function describe(error: unknown): string {
  if (error instanceof ApiError) {
    const parts = [`${error.code}: ${error.message}`];
    if (error.code === "suspended") parts.push(error.until ? `(until ${error.until})` : "(until staff lift it)");
    if (error.retryAfterS !== undefined) parts.push(`(try again in ${error.retryAfterS} s)`);
    return parts.join(" ");
  }
  if (error instanceof FirestoreError) return `firestore ${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}

function showError(error: unknown): void {
  console.error(error);
  el("error").hidden = false;
  setText("error", describe(error));
}

function clearError(): void {
  el("error").hidden = true;
  setText("error", "");
}

async function guarded(action: () => Promise<void>): Promise<void> {
  clearError();
  try {
    await action();
  } catch (error) {
    showError(error);
  }
}

// -- state ------------------------------------------------------------------------------------------
interface ShownRoom {
  id: string;
  data: RoomDoc;
  tokensFetched: boolean;
  socket?: WebSocket;
  reconnects: number;
  /** the user asked to leave: the room leaving the query is their own doing */
  leaving: boolean;
  over: boolean;
}

let backend: Backend;
let me: User | null = null;
let profile: UserDoc | undefined;
let stopUser: Unsubscribe | undefined;
let stopRooms: Unsubscribe | undefined;
let room: ShownRoom | undefined;
let heartbeat: number | undefined;
let ticketRefresh: number | undefined;
let wantedGender: "male" | "female" | "other" | undefined;

// -- 1. sign in -------------------------------------------------------------------------------------
function wireAuth(): void {
  el<HTMLFormElement>("auth-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const submitter = (event as SubmitEvent).submitter as HTMLButtonElement | null;
    const email = el<HTMLInputElement>("email").value.trim();
    const password = el<HTMLInputElement>("password").value;
    void guarded(async () => {
      if (submitter?.value === "up") await createUserWithEmailAndPassword(backend.auth, email, password);
      else await signInWithEmailAndPassword(backend.auth, email, password);
    });
  });
  el("sign-out").addEventListener("click", () => {
    void guarded(async () => {
      // Say goodbye first: the server takes an offline user out of the queue and their room.
      if (room) room.leaving = true;
      await backend.api.matching.heartbeat("offline").catch(() => undefined);
      await signOut(backend.auth);
    });
  });
  onAuthStateChanged(backend.auth, (user) => {
    me = user;
    stopUser?.();
    stopRooms?.();
    stopUser = stopRooms = undefined;
    profile = undefined;
    if (room) endRoom(room, "");
    show("room", false);
    window.clearInterval(heartbeat);
    window.clearTimeout(ticketRefresh);
    show("auth", !user);
    show("sign-out", Boolean(user));
    for (const id of ["profile", "match", "invitations"]) show(id, Boolean(user));
    setText("whoami", user ? `Signed in as ${user.email ?? user.uid} (uid ${user.uid})` : "");
    if (user) {
      watchUser(user);
      watchOpenRooms(user);
    }
  });
}

// -- 2. the profile: users/{uid}, and the server-owned fields that drive everything else ---------
function watchUser(user: User): void {
  stopUser = onSnapshot(
    doc(backend.db, collections.users, user.uid),
    (snapshot) => {
      profile = snapshot.exists() ? (snapshot.data() as UserDoc) : undefined;
      renderProfile();
      // status: online / matching / in_call / offline; currentRoomId is absent when in no room.
      if (profile?.status !== "matching") window.clearTimeout(ticketRefresh);
    },
    showError,
  );
  const beat = () => void backend.api.matching.heartbeat("online").catch((error) => console.warn(error));
  beat();
  heartbeat = window.setInterval(beat, HEARTBEAT_MS);
}

function renderProfile(): void {
  setText("user-status", profile?.status ?? "no profile yet");
  setText(
    "profile-state",
    profile
      ? `${profile.displayName} (@${profile.username})${profile.adultConfirmedAt ? ", adult confirmed" : ""}` +
          (profile.currentRoomId ? `, in room ${profile.currentRoomId}` : "")
      : "create your profile to start",
  );
  if (profile) {
    el<HTMLInputElement>("display-name").value ||= profile.displayName;
    el<HTMLInputElement>("username").value ||= profile.username;
    el<HTMLSelectElement>("gender").value = profile.gender ?? "";
  }
  const adult = el<HTMLInputElement>("adult");
  adult.checked = Boolean(profile?.adultConfirmedAt) || adult.checked;
  adult.disabled = Boolean(profile?.adultConfirmedAt); // said once, never changed (rules)
}

function wireProfile(): void {
  el<HTMLFormElement>("profile-form").addEventListener("submit", (event) => {
    event.preventDefault();
    void guarded(saveProfile);
  });
}

async function saveProfile(): Promise<void> {
  if (!me) return;
  const displayName = el<HTMLInputElement>("display-name").value.trim();
  const username = el<HTMLInputElement>("username").value.trim();
  const gender = el<HTMLSelectElement>("gender").value as "" | "male" | "female" | "other";
  const adult = el<HTMLInputElement>("adult").checked;
  const ref = doc(backend.db, collections.users, me.uid);
  if (!profile) {
    // Create: exactly the keys the rules allow, every time as serverTimestamp().
    const created: NewUserDoc<FieldValue> = {
      displayName,
      username,
      status: "online",
      createdAt: serverTimestamp(),
      lastActiveAt: serverTimestamp(),
      ...(gender ? { gender } : {}),
      ...(adult ? { adultConfirmedAt: serverTimestamp() } : {}),
    };
    await setDoc(ref, created);
    if (me.email) {
      const privateProfile: PrivateProfileDoc = { email: me.email };
      await setDoc(doc(backend.db, collections.users, me.uid, collections.private, PRIVATE_PROFILE_ID), privateProfile);
    }
    return;
  }
  // Update: only what changed (the rules check the changed keys).
  const update: UserUpdate<FieldValue> = { updatedAt: serverTimestamp() };
  if (displayName !== profile.displayName) update.displayName = displayName;
  if (username !== profile.username) update.username = username;
  if (gender && gender !== profile.gender) update.gender = gender;
  if (adult && !profile.adultConfirmedAt) update.adultConfirmedAt = serverTimestamp();
  await updateDoc(ref, { ...update });
}

// -- 3. random match --------------------------------------------------------------------------------
function wireMatch(): void {
  el("queue-join").addEventListener("click", () => {
    const want = el<HTMLSelectElement>("want").value;
    wantedGender = want === "male" || want === "female" || want === "other" ? want : undefined;
    void guarded(joinQueue);
  });
  el("queue-leave").addEventListener("click", () => {
    void guarded(async () => {
      window.clearTimeout(ticketRefresh);
      const { removed } = await backend.api.matching.leaveQueue();
      setText("queue-state", removed ? "Left the queue." : "You were not in the queue.");
    });
  });
}

async function joinQueue(): Promise<void> {
  const ticket = await backend.api.matching.joinQueue(wantedGender ? { gender: wantedGender } : {});
  setText("queue-state", `Waiting since ${ticket.createdAt}; the ticket is kept until ${ticket.expiresAt}.`);
  // A ticket expires unless refreshed: POST /queue again keeps the place.
  window.clearTimeout(ticketRefresh);
  const refreshInMs = Date.parse(ticket.expiresAt) - Date.now() - TICKET_REFRESH_LEAD_MS;
  ticketRefresh = window.setTimeout(() => {
    if (profile?.status === "matching") void guarded(joinQueue);
  }, Math.max(refreshInMs, 5_000));
}

// -- 4. the room ------------------------------------------------------------------------------------
// One query listener for the rooms the user is in now. The rules let only participants read a room,
// and require the query to say so (participants array-contains uid). With the status filter, a room
// leaves the result when it closes (the partner, who stays in a closed room's participants) and when
// the user is taken out of it (their own leave, going offline): never a permission error, which a
// listener on rooms/{id} gets in that case (docs/frontend.md, "Listener semantics").
function watchOpenRooms(user: User): void {
  const mine = query(
    collection(backend.db, collections.rooms),
    where("participants", "array-contains", user.uid),
    where("status", "in", ["waiting", "active"]),
  );
  stopRooms = onSnapshot(
    mine,
    (snapshot) => {
      for (const change of snapshot.docChanges()) {
        const data = change.doc.data() as RoomDoc;
        if (change.type === "removed") {
          if (room?.id === change.doc.id) void roomOver(room);
        } else {
          showRoom(change.doc.id, data);
        }
      }
    },
    showError,
  );
}

function showRoom(roomId: string, data: RoomDoc): void {
  if (room?.id !== roomId) {
    if (room) endRoom(room, "");
    room = { id: roomId, data, tokensFetched: false, reconnects: 0, leaving: false, over: false };
    show("room", true);
    setText("room-notice", "");
    setText("chat-log", "");
    setText("queue-state", "");
    setText("livekit-url", "");
    setText("livekit-room", "");
    setText("livekit-expires", "");
    setText("ws-status", "");
  }
  const shown = room;
  shown.data = data;
  renderRoom(shown);
  // Random rooms are born active; a select room waits for its second person.
  if (data.status === "waiting") setText("room-notice", `Waiting for someone to join (code ${data.roomCode ?? "?"}).`);
  if (data.status === "active" && !shown.tokensFetched) {
    shown.tokensFetched = true;
    setText("room-notice", "");
    void guarded(() => fetchTokens(shown));
  }
}

/** The room left the open-rooms query: it closed, or the user is not in it any more. */
async function roomOver(shown: ShownRoom): Promise<void> {
  if (shown.leaving) return endRoom(shown, "You left the room.", "left");
  // Still a participant (the partner of a closed room): one read says how it ended. Someone taken
  // out (offline elsewhere) may not read it any more.
  try {
    const snapshot = await getDoc(doc(backend.db, collections.rooms, shown.id));
    const data = snapshot.data() as RoomDoc | undefined;
    if (data) {
      shown.data = data;
      renderRoom(shown);
    }
    endRoom(shown, `The room was closed (${data?.closeReason ?? "normal"}).`);
  } catch (error) {
    if (error instanceof FirestoreError && error.code === "permission-denied") {
      endRoom(shown, "You are no longer in this room.", "left");
    } else {
      showError(error);
    }
  }
}

function renderRoom(shown: ShownRoom): void {
  const data = shown.data;
  setText("room-id", shown.id);
  setText("room-status", data.status);
  setText("room-type", `${data.type}, up to ${data.maxParticipants}`);
  const list = el("room-participants");
  list.replaceChildren(
    ...data.participants.map((uid) => {
      const item = document.createElement("li");
      item.textContent = uid === me?.uid ? `${uid} (you)` : uid;
      return item;
    }),
  );
}

async function fetchTokens(shown: ShownRoom): Promise<void> {
  // The LiveKit token: `room` is the LiveKit room name (rooms/{id}.livekitRoomName), not the room id.
  const livekit = await backend.api.tokens.livekit(shown.id);
  setText("livekit-url", livekit.url);
  setText("livekit-room", livekit.room);
  setText("livekit-expires", livekit.expiresAt);
  // No LiveKit server runs locally: a real app would now `room.connect(livekit.url, livekit.token)`.
  await openSocket(shown);
}

async function openSocket(shown: ShownRoom): Promise<void> {
  if (shown.over) return;
  const { token } = await backend.api.tokens.ws(shown.id); // single use, at most 5 minutes
  const url = `${backend.config.realtimeUrl}/rooms/${encodeURIComponent(shown.id)}?access_token=${encodeURIComponent(token)}`;
  const socket = new WebSocket(url);
  shown.socket = socket;
  setText("ws-status", "connecting");
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { type: string; [key: string]: unknown };
    if (message.type === "ready") {
      shown.reconnects = 0;
      setText("ws-status", `ready (${(message.participants as string[]).length} in the room)`);
    } else if (message.type === "chat") {
      logChat(`${String(message.from)}: ${String(message.text)}`);
    } else if (message.type === "joined" || message.type === "left") {
      logChat(`* ${String(message.uid)} ${message.type}`);
    } else if (message.type === "closed") {
      logChat("* the room closed");
    } else if (message.type === "error") {
      showError(new Error(`realtime ${String(message.code)}: ${String(message.message)}`));
    }
  });
  socket.addEventListener("close", (event) => {
    setText("ws-status", `closed (${event.code}${event.reason ? ` ${event.reason}` : ""})`);
    // docs/realtime.md "Close codes": these mean "get a new token and come back"; the others, stop.
    const reconnect = [1001, 1006, 1011, 1013, 4401, 4408].includes(event.code);
    if (reconnect && !shown.over && shown.socket === socket && shown.reconnects < 3) {
      shown.reconnects += 1;
      window.setTimeout(() => void guarded(() => openSocket(shown)), 500 * shown.reconnects);
    }
  });
}

function logChat(line: string): void {
  const item = document.createElement("li");
  item.textContent = line;
  el("chat-log").append(item);
}

function endRoom(shown: ShownRoom, notice: string, status?: string): void {
  shown.over = true;
  shown.socket?.close(1000);
  if (status) setText("room-status", status);
  setText("room-notice", notice);
}

function wireRoom(): void {
  el("room-leave").addEventListener("click", () => {
    const current = room;
    if (!current) return;
    current.leaving = true;
    void guarded(async () => {
      try {
        await backend.api.matching.leaveRoom(current.id);
      } catch (error) {
        current.leaving = false;
        throw error;
      }
      endRoom(current, "You left the room.", "left");
    });
  });
  el<HTMLFormElement>("chat-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = el<HTMLInputElement>("chat-text");
    const socket = room?.socket;
    if (!input.value.trim() || socket?.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: "chat", text: input.value }));
    logChat(`${me?.uid ?? "me"} (you): ${input.value}`);
    input.value = "";
  });
}

// -- 5. invitations ---------------------------------------------------------------------------------
function wireInvitations(): void {
  el("invitations-load").addEventListener("click", () => {
    void guarded(async () => {
      const { data, headers } = await backend.api.invitations.list({ status: "recruiting", limit: 20 });
      // X-Cache is readable cross-origin because the functions expose it (CORS).
      setText("invitations-cache", `X-Cache: ${headers.get("X-Cache") ?? "(not exposed)"}`);
      const list = el("invitations-list");
      list.replaceChildren(
        ...data.items.map((invitation) => {
          const item = document.createElement("li");
          item.dataset.testid = "invitation";
          item.textContent =
            `${invitation.startTime} ${invitation.eventName} [${invitation.tag}] ` +
            `${invitation.joinedCount}/${invitation.maxParticipants}, hosted by ${invitation.hostName}`;
          return item;
        }),
      );
      if (data.items.length === 0) list.textContent = "No recruiting invitations.";
    });
  });
}

// -- start ------------------------------------------------------------------------------------------
async function main(): Promise<void> {
  backend = connect(await loadConfig());
  wireAuth();
  wireProfile();
  wireMatch();
  wireRoom();
  wireInvitations();
  document.body.dataset.ready = "true";
}

main().catch(showError);
