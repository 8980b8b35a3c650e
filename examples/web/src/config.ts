// Where the backend is, read at run time from /config.json (see vite.config.ts). Locally the stack
// writes it (devstack/webapp.py); a deployed app ships one with its Firebase web config instead.
import type { FirebaseOptions } from "firebase/app";

export interface AppConfig {
  /** The Firebase web app's config (locally only projectId and a placeholder apiKey matter). */
  firebase: FirebaseOptions;
  /** The HTTP functions: `${gatewayUrl}/${function}/${path}` */
  gatewayUrl: string;
  /** The realtime WebSocket service: `${realtimeUrl}/rooms/${roomId}?access_token=...` */
  realtimeUrl: string;
  /** Set locally only: the Auth and Firestore emulators. */
  emulators?: { authUrl: string; firestoreHost: string; firestorePort: number };
}

export async function loadConfig(): Promise<AppConfig> {
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`/config.json: HTTP ${response.status} (is the stack running?)`);
  return (await response.json()) as AppConfig;
}
