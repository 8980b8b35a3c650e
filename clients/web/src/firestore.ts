// The Firestore documents a web client reads and writes, field by field.
//
// Read types (`UserDoc`, `RoomDoc`, ...) are what a snapshot holds: the fields the server writes and
// the fields `firestore.rules` let the owner write. Write types (`NewUserDoc`, `UserUpdate`, ...)
// are exactly what the rules accept; anything else is refused with `permission-denied`.
// docs/frontend.md explains each field; firestore.rules and tests/test_rules.py are the authority.
//
// No runtime dependency on the Firebase SDK: timestamps are typed structurally (the SDK's
// `Timestamp` satisfies `Timestamp` below), and the write types take the SDK's `FieldValue` type
// as a parameter, because the rules demand `serverTimestamp()` for every time a client writes:
//
//   import { serverTimestamp, type FieldValue } from "firebase/firestore";
//   const profile: NewUserDoc<FieldValue> = { ..., createdAt: serverTimestamp() };

/** A Firestore timestamp as a snapshot holds it (the SDK's `Timestamp` class satisfies this). */
export interface Timestamp {
  readonly seconds: number;
  readonly nanoseconds: number;
  toDate(): Date;
  toMillis(): number;
}

/** Collection and subcollection names (shared/vocab.py). */
export const collections = {
  users: "users",
  rooms: "rooms",
  matchingQueue: "matchingQueue",
  callSessions: "callSessions",
  vrmModels: "vrmModels",
  /** users/{uid}/private/profile (the owner's) and users/{uid}/private/suspension (the server's) */
  private: "private",
  vrmSettings: "vrmSettings",
  sessions: "sessions",
  blocks: "blocks",
} as const;

export const PRIVATE_PROFILE_ID = "profile";
export const SUSPENSION_MARKER_ID = "suspension";

// -- users/{uid} ----------------------------------------------------------------------------------
/** `matching` and `in_call` are set by the server only; a client writes `online` / `offline`. */
export type UserStatus = "online" | "offline" | "matching" | "in_call";
export type ClientStatus = "online" | "offline";
export type Gender = "male" | "female" | "other";

export interface UserPreferences {
  matchingGender?: Gender | "any";
  notifications?: boolean;
}

/** users/{uid}: the public profile. Any signed-in user may `get` it by id (no listing). */
export interface UserDoc {
  /** 1..50 characters */
  displayName: string;
  /** ^[a-z0-9_]{3,30}$ */
  username: string;
  status: UserStatus;
  createdAt: Timestamp;
  lastActiveAt: Timestamp;
  gender?: Gender;
  /** a vrmModels id */
  selectedVrmId?: string;
  updatedAt?: Timestamp;
  preferences?: UserPreferences;
  /** "I am an adult", set once by the owner as serverTimestamp(); the queue and select rooms need it */
  adultConfirmedAt?: Timestamp;
  /** server-owned: the open room the user is in; absent when in no room */
  currentRoomId?: string;
}

/** users/{uid} create: these keys and no others; the times must be serverTimestamp(). */
export interface NewUserDoc<ServerTime> {
  displayName: string;
  username: string;
  status: ClientStatus;
  createdAt: ServerTime;
  lastActiveAt: ServerTime;
  gender?: Gender;
  selectedVrmId?: string;
  updatedAt?: ServerTime;
  preferences?: UserPreferences;
  adultConfirmedAt?: ServerTime;
}

/** users/{uid} update: only these keys may change. `adultConfirmedAt` once, never changed again;
 * while the server holds the user in `matching` / `in_call`, `status` may only become `offline`. */
export interface UserUpdate<ServerTime> {
  displayName?: string;
  username?: string;
  gender?: Gender;
  selectedVrmId?: string;
  status?: ClientStatus;
  lastActiveAt?: ServerTime;
  updatedAt?: ServerTime;
  preferences?: UserPreferences;
  adultConfirmedAt?: ServerTime;
}

// -- users/{uid}/private/profile ----------------------------------------------------------------------
export interface PrivateSettings {
  /** 2..35 characters, e.g. "ja-JP" */
  locale?: string;
  theme?: "light" | "dark" | "system";
  micDeviceId?: string;
  cameraDeviceId?: string;
  speakerDeviceId?: string;
  /** 0..1 */
  volume?: number;
  mirrorVideo?: boolean;
  noiseSuppression?: boolean;
  showCaptions?: boolean;
}

/** users/{uid}/private/profile: owner only; `email` must equal the ID token's email. */
export interface PrivateProfileDoc {
  email?: string;
  settings?: PrivateSettings;
}

/** users/{uid}/private/suspension: server-owned, readable by the owner alone; present while the
 * owner is suspended (account_api). `until: null` = until staff lift it. */
export interface SuspensionMarkerDoc {
  until: Timestamp | null;
}

// -- users/{uid}/vrmSettings/{settingId} ----------------------------------------------------------------
export type AnimationSlot =
  | "idle" | "walk" | "run" | "jump" | "sit" | "wave" | "clap" | "dance" | "nod" | "bow" | "laugh" | "think";

export interface VrmCustomSettings {
  position?: [number, number, number];
  /** 0.1..10 */
  scale?: number;
  /** slot -> animation asset id */
  animations?: Partial<Record<AnimationSlot, string>>;
}

/** users/{uid}/vrmSettings/{id}: owner only; `vrmModelId` must name a public model. */
export interface VrmSettingDoc {
  vrmModelId: string;
  isPrimary: boolean;
  customSettings?: VrmCustomSettings;
  createdAt: Timestamp;
}

export interface NewVrmSettingDoc<ServerTime> {
  vrmModelId: string;
  isPrimary: boolean;
  customSettings?: VrmCustomSettings;
  createdAt: ServerTime;
}

/** update: `createdAt` is fixed */
export type VrmSettingUpdate = Partial<Pick<VrmSettingDoc, "vrmModelId" | "isPrimary" | "customSettings">>;

// -- users/{uid}/sessions/{sessionId} -------------------------------------------------------------------
export interface DeviceInfo {
  platform?: string;
  os?: string;
  osVersion?: string;
  browser?: string;
  browserVersion?: string;
  model?: string;
  appVersion?: string;
}

/** users/{uid}/sessions/{id}: the owner's signed-in devices (deleted by TTL at `expiresAt`). */
export interface SessionDoc {
  deviceInfo?: DeviceInfo;
  /** at most 512 characters */
  userAgent?: string;
  createdAt: Timestamp;
  lastActivityAt: Timestamp;
  expiresAt: Timestamp;
}

/** create: `expiresAt` is a real time (the SDK's Timestamp) in the future, at most 30 days ahead */
export interface NewSessionDoc<ServerTime, Time = Timestamp> {
  deviceInfo?: DeviceInfo;
  userAgent?: string;
  createdAt: ServerTime;
  lastActivityAt: ServerTime;
  expiresAt: Time;
}

/** update: only the activity time */
export interface SessionUpdate<ServerTime> {
  lastActivityAt: ServerTime;
}

// -- users/{uid}/blocks/{otherUid} (written by account_api; the owner reads) -------------------------
export interface BlockDoc {
  createdAt: Timestamp;
}

// -- rooms/{roomId} (server-written; readable by its participants) ------------------------------------
export type RoomStatus = "waiting" | "active" | "closed";
export type RoomType = "random" | "select";
export type CloseReason = "normal" | "timeout" | "error";

/**
 * rooms/{roomId}. Readable while the caller is in `participants`: a query must filter
 * `where("participants", "array-contains", uid)`. Random rooms are created `active`; select rooms
 * are `waiting` until a second person joins. A closed room keeps the people who were still in it
 * when it closed (not the one whose leave closed it), so filter on `status`.
 */
export interface RoomDoc {
  type: RoomType;
  status: RoomStatus;
  /** uids; at most maxParticipants */
  participants: string[];
  maxParticipants: number;
  /** a uid, or "system" for random rooms */
  createdBy: string;
  /** the LiveKit room name: what issue_tokens puts in the token's grant (not the room id) */
  livekitRoomName: string;
  createdAt: Timestamp;
  /** auto_close closes the room at this time */
  expiresAt: Timestamp;
  /** select rooms only: the code others join with */
  roomCode?: string;
  /** set when it becomes active */
  activatedAt?: Timestamp;
  /** the call session's id (callSessions/{sessionId}); equals the room id */
  sessionId?: string;
  closedAt?: Timestamp;
  closeReason?: CloseReason;
  /** the Firestore TTL deletes a closed room at this time */
  deleteAt?: Timestamp;
}

// -- callSessions/{sessionId} (server-written; readable by its participants) ---------------------------
/** One per room that became active: the call history (`participants` lists everyone who took part). */
export interface CallSessionDoc {
  roomId: string;
  roomType: RoomType;
  participants: string[];
  startedAt: Timestamp;
  endedAt?: Timestamp;
  durationSeconds?: number;
  endReason?: CloseReason;
  deleteAt?: Timestamp;
}

// -- matchingQueue/{uid} (server-written; the owner may get it) ------------------------------------------
/** The caller's random-matching request while they wait; deleted when they are paired or leave. */
export interface MatchingQueueDoc {
  userId: string;
  preferences: { gender?: Gender };
  priority: number;
  /** the place in the queue */
  createdAt: Timestamp;
  /** refresh with another POST /matching_api/queue before this */
  expiresAt: Timestamp;
}

// -- vrmModels/{vrmId} (server-written; signed-in users read public ones) -------------------------------
/** A query must filter `where("isPublic", "==", true)`. Where each field comes from: docs/vroid.md. */
export interface VrmModelDoc {
  vroidModelId: string;
  name: string;
  description: string;
  authorName: string;
  /** https */
  thumbnailUrl: string;
  license: {
    type: "vroid_hub" | "vrm_public_license_1_0" | "vrm_other";
    allowModification: boolean;
    allowRedistribution: boolean;
    requireCredit: boolean;
  };
  tags: string[];
  ageLimit: { isR18: boolean; isR15: boolean };
  isPublic: true;
  downloadCount: number;
  createdAt: Timestamp;
  syncedAt: Timestamp;
  vrmFileUrl?: string;
  cloudflareR2Key?: string;
}

// -- helpers --------------------------------------------------------------------------------------------
/** Whether a room snapshot is one the user is in now: open (not closed, not expired) and listing them. */
export function isOpenRoomOf(room: RoomDoc | undefined, uid: string, now: Date = new Date()): room is RoomDoc {
  return (
    room !== undefined &&
    room.status !== "closed" &&
    room.expiresAt.toMillis() > now.getTime() &&
    room.participants.includes(uid)
  );
}
