// The Firebase SDK (Auth, Firestore) and the typed client, wired to the configured backend.
import { initializeApp } from "firebase/app";
import { connectAuthEmulator, getAuth, type Auth } from "firebase/auth";
import { connectFirestoreEmulator, getFirestore, setLogLevel, type Firestore } from "firebase/firestore";
import { createClient, type Client } from "@vchat/client";
import type { AppConfig } from "./config";

export interface Backend {
  config: AppConfig;
  auth: Auth;
  db: Firestore;
  api: Client;
}

export function connect(config: AppConfig): Backend {
  const app = initializeApp(config.firebase);
  const auth = getAuth(app);
  const db = getFirestore(app);
  // ?debug=firestore logs what the SDK's listeners receive (the browser console).
  if (new URLSearchParams(location.search).get("debug") === "firestore") setLogLevel("debug");
  if (config.emulators) {
    connectAuthEmulator(auth, config.emulators.authUrl, { disableWarnings: true });
    connectFirestoreEmulator(db, config.emulators.firestoreHost, config.emulators.firestorePort);
  }
  const api = createClient({
    baseUrl: config.gatewayUrl,
    // The SDK refreshes the ID token when it is about to expire; every call asks it.
    getIdToken: () => auth.currentUser?.getIdToken() ?? null,
  });
  return { config, auth, db, api };
}
