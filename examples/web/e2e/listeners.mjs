// What a web client's Firestore listeners see through a room's life, measured with the Firebase JS
// SDK (as a browser runs it, under firestore.rules) against a running stack. docs/frontend.md
// ("Listener semantics") is written from this; tests/test_web_app.py runs it and checks the facts.
//
//   node e2e/listeners.mjs --config .dev/webapp.json
//
// Prints one JSON object: for each scenario, each person's timeline of listener events
// ({t: ms since the scenario's first request, listener, ...}).
import { readFile } from "node:fs/promises";
import { parseArgs } from "node:util";
import { deleteApp, initializeApp } from "firebase/app";
import { connectAuthEmulator, createUserWithEmailAndPassword, getAuth } from "firebase/auth";
import {
  collection,
  connectFirestoreEmulator,
  doc,
  getFirestore,
  onSnapshot,
  query,
  serverTimestamp,
  setDoc,
  updateDoc,
  where,
} from "firebase/firestore";

const { values: args } = parseArgs({
  options: { config: { type: "string" }, "timeout-ms": { type: "string", default: "20000" } },
});
const config = JSON.parse(await readFile(args.config, "utf8"));
const TIMEOUT_MS = Number(args["timeout-ms"]);
const run = Math.random().toString(36).slice(2, 8);
const apps = [];

async function person(name, gender) {
  const app = initializeApp(config.firebase, `${name}-${run}`);
  apps.push(app);
  const auth = getAuth(app);
  connectAuthEmulator(auth, config.emulators.authUrl, { disableWarnings: true });
  const db = getFirestore(app);
  connectFirestoreEmulator(db, config.emulators.firestoreHost, config.emulators.firestorePort);
  const { user } = await createUserWithEmailAndPassword(auth, `${name}-${run}@example.com`, "listener-probe");
  await setDoc(doc(db, "users", user.uid), {
    displayName: name,
    username: `${name}_${run}`,
    status: "online",
    gender,
    createdAt: serverTimestamp(),
    lastActiveAt: serverTimestamp(),
    adultConfirmedAt: serverTimestamp(),
  });
  const me = { name, uid: user.uid, db, user, events: [], unsubscribe: [], scenarioStart: 0 };
  me.call = async (api, method, path, body) => {
    const response = await fetch(`${config.gatewayUrl}/${api}${path}`, {
      method,
      headers: { Authorization: `Bearer ${await user.getIdToken()}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json();
    if (!response.ok) throw new Error(`${name} ${method} ${api}${path}: ${response.status} ${JSON.stringify(data)}`);
    return data;
  };
  return me;
}

function record(me, listener, event) {
  me.events.push({ t: Math.round(performance.now() - me.scenarioStart), listener, ...event });
}

/** Starts the person's listeners; `me.synced()` tells when each has delivered its first snapshot. A
 * real client renders that first state before anyone can act; the emulator also mishandles a commit
 * that lands on a stream still adding its targets (it can corrupt the stream). */
function listen(me) {
  me.scenarioStart = performance.now();
  me.events = [];
  const waiting = new Set(["user", "roomsQuery", "openRoomsQuery"]);
  me.synced = () => waiting.size === 0;
  // the user's own document: status and currentRoomId
  me.unsubscribe.push(
    onSnapshot(
      doc(me.db, "users", me.uid),
      (snap) => {
        waiting.delete("user");
        const data = snap.data() ?? {};
        record(me, "user", { status: data.status, currentRoomId: data.currentRoomId ?? null });
        const roomId = data.currentRoomId;
        if (roomId && !me.watchedRooms?.has(roomId)) watchRoomDoc(me, roomId);
      },
      (error) => record(me, "user", { error: error.code }),
    ),
  );
  // the rooms query the rules allow (participants array-contains uid), as is and with the status
  // filter the reference app uses
  const rooms = collection(me.db, "rooms");
  const mine = where("participants", "array-contains", me.uid);
  const open = where("status", "in", ["waiting", "active"]);
  for (const [listener, target] of [
    ["roomsQuery", query(rooms, mine)],
    ["openRoomsQuery", query(rooms, mine, open)],
  ]) {
    watchQuery(me, listener, target, () => waiting.delete(listener));
  }
}

function watchQuery(me, listener, target, onFirst) {
  me.unsubscribe.push(
    onSnapshot(
      target,
      (snap) => {
        onFirst();
        for (const change of snap.docChanges()) {
          const data = change.doc.data();
          record(me, listener, {
            change: change.type,
            roomId: change.doc.id,
            status: data.status,
            participants: data.participants.length,
            inParticipants: data.participants.includes(me.uid),
          });
        }
      },
      (error) => record(me, listener, { error: error.code }),
    ),
  );
}

function watchRoomDoc(me, roomId) {
  me.watchedRooms ??= new Set();
  me.watchedRooms.add(roomId);
  me.unsubscribe.push(
    onSnapshot(
      doc(me.db, "rooms", roomId),
      (snap) => {
        const data = snap.data();
        record(me, "roomDoc", {
          roomId,
          exists: snap.exists(),
          status: data?.status,
          participants: data?.participants.length,
          inParticipants: data?.participants.includes(me.uid),
        });
      },
      (error) => record(me, "roomDoc", { roomId, error: error.code }),
    ),
  );
}

function stopListening(...people) {
  for (const me of people) {
    for (const stop of me.unsubscribe.splice(0)) stop();
    me.watchedRooms = new Set();
  }
}

let watching = []; // the scenario's two people

async function until(what, predicate) {
  const deadline = performance.now() + TIMEOUT_MS;
  while (!predicate()) {
    if (performance.now() > deadline) {
      // what each person's listeners saw so far: the failure's evidence
      const seen = Object.fromEntries(watching.map((me) => [me.name, { uid: me.uid, events: me.events }]));
      throw new Error(`timed out waiting for ${what}; seen so far: ${JSON.stringify(seen)}`);
    }
    await new Promise((done) => setTimeout(done, 25));
  }
}

const last = (me, listener, test = () => true) => me.events.filter((e) => e.listener === listener && test(e)).at(-1);
const settle = () => new Promise((done) => setTimeout(done, 1500)); // let late events arrive

/** Random match, then one leaves with POST /rooms/{id}/leave. */
async function randomThenLeave(a, b) {
  watching = [a, b];
  listen(a);
  listen(b);
  await until("listeners synced", () => a.synced() && b.synced());
  await a.call("matching_api", "POST", "/queue", { preferences: { gender: "male" } });
  await b.call("matching_api", "POST", "/queue", { preferences: { gender: "female" } });
  await until("both seated", () => last(a, "roomDoc")?.status === "active" && last(b, "roomDoc")?.status === "active");
  const roomId = last(a, "user").currentRoomId;
  await settle();
  await a.call("matching_api", "POST", `/rooms/${roomId}/leave`);
  await until("b sees closed", () => last(b, "roomDoc")?.status === "closed");
  await until("both released", () => last(a, "user")?.currentRoomId === null && last(b, "user")?.currentRoomId === null);
  await settle();
  stopListening(a, b);
  return { roomId, [a.name]: a.events, [b.name]: b.events };
}

/** A select room: created (waiting), joined (active), then its creator goes offline. */
async function selectThenOffline(a, b) {
  watching = [a, b];
  listen(a);
  listen(b);
  await until("listeners synced", () => a.synced() && b.synced());
  const room = await a.call("matching_api", "POST", "/rooms", { maxParticipants: 2 });
  await until("a sees waiting", () => last(a, "roomDoc")?.status === "waiting");
  await settle();
  await b.call("matching_api", "POST", "/rooms/join", { roomCode: room.roomCode });
  await until("a sees active", () => last(a, "roomDoc")?.status === "active");
  await settle();
  // Going offline is a client write the rules allow at any time; the user trigger does the rest.
  await updateDoc(doc(a.db, "users", a.uid), { status: "offline", lastActiveAt: serverTimestamp() });
  await until("b sees closed", () => last(b, "roomDoc")?.status === "closed");
  await until("b released", () => last(b, "user")?.currentRoomId === null);
  await settle();
  stopListening(a, b);
  return { roomId: room.roomId, [a.name]: a.events, [b.name]: b.events };
}

try {
  const ann = await person("ann", "female");
  const ben = await person("ben", "male");
  const result = { random_leave: await randomThenLeave(ann, ben) };
  const cat = await person("cat", "other");
  const dan = await person("dan", "other");
  result.select_offline = await selectThenOffline(cat, dan);
  console.log(JSON.stringify(result));
} finally {
  await Promise.all(apps.map((app) => deleteApp(app)));
}
process.exit(0);
