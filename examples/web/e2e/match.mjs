// Two people in two browser contexts of headless Chromium use the reference web app against a
// running stack: sign up, set a profile, queue, get matched into the same room, see its tokens and
// the realtime socket, chat, list invitations; one leaves, the other sees the room close.
//
//   node e2e/match.mjs --app http://127.0.0.1:8300 --chromium /usr/bin/chromium --out build/reports/web-app \
//        [--invitation "event name the list must show"]
//
// Prints one JSON line per step ({"step", "ms"}) and a summary; on failure, a screenshot and the
// console of each page go to --out and the exit code is 1. Every wait is bounded.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const { values: args } = parseArgs({
  options: {
    app: { type: "string" },
    chromium: { type: "string", default: "/usr/bin/chromium" },
    out: { type: "string", default: "build/reports/web-app" },
    invitation: { type: "string" },
    "timeout-ms": { type: "string", default: "30000" },
  },
});
if (!args.app) throw new Error("--app is required");
const TIMEOUT_MS = Number(args["timeout-ms"]);
const started = performance.now();
const run = Math.random().toString(36).slice(2, 8);

// Debian's Chromium, headless, as root in a sandbox-less VM; the closed network refuses Chromium's
// own background calls, so they are turned off.
const browser = await chromium.launch({
  executablePath: args.chromium,
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
  ],
});

/** @type {{name: string, page: import("playwright-core").Page, console: string[]}[]} */
const people = [];

function step(name) {
  console.log(JSON.stringify({ step: name, ms: Math.round(performance.now() - started) }));
}

const byTestId = (id) => `[data-testid="${id}"]`;

/** Wait until the element's text satisfies `test` (a RegExp), and return the text. */
async function waitText(person, id, test, what = String(test)) {
  try {
    const handle = await person.page.waitForFunction(
      ([selector, source, flags]) => {
        const text = document.querySelector(selector)?.textContent ?? "";
        return new RegExp(source, flags).test(text) ? text : false;
      },
      [byTestId(id), test.source, test.flags],
      { timeout: TIMEOUT_MS, polling: 100 },
    );
    return String(await handle.jsonValue());
  } catch (error) {
    const now = await person.page.locator(byTestId(id)).textContent().catch(() => "(missing)");
    const shown = await person.page.locator(byTestId("error")).textContent().catch(() => "");
    throw new Error(`${person.name}: ${id} never matched ${what} (it shows ${JSON.stringify(now)}; error ${JSON.stringify(shown)})`, {
      cause: error,
    });
  }
}

async function open(name, gender) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 1400 } });
  const page = await context.newPage();
  const person = { name, page, console: [], gender };
  page.on("console", (message) => person.console.push(`[${message.type()}] ${message.text()}`));
  page.on("pageerror", (error) => person.console.push(`[pageerror] ${error.message}`));
  people.push(person);
  await page.goto(args.app, { timeout: TIMEOUT_MS });
  await page.waitForSelector("body[data-ready=true]", { timeout: TIMEOUT_MS });
  return person;
}

async function signUpWithProfile(person) {
  const { page, name } = person;
  await page.fill(byTestId("email"), `${name}-${run}@example.com`);
  await page.fill(byTestId("password"), "web-app-test-password");
  await page.click(byTestId("sign-up"));
  await page.waitForSelector(`${byTestId("profile-section")}:not([hidden])`, { timeout: TIMEOUT_MS });
  await waitText(person, "user-status", /no profile yet/);
  await page.fill(byTestId("display-name"), `${name} ${run}`);
  await page.fill(byTestId("username"), `${name}_${run}`);
  await page.selectOption(byTestId("gender"), person.gender);
  await page.check(byTestId("adult"));
  await page.click(byTestId("profile-save"));
  await waitText(person, "user-status", /^online$/);
  await waitText(person, "profile-state", /adult confirmed/);
}

async function main() {
  const [ann, ben] = await Promise.all([open("ann", "female"), open("ben", "male")]);
  step("pages loaded");
  await Promise.all([signUpWithProfile(ann), signUpWithProfile(ben)]);
  step("signed up, profiles saved");

  // Each wants the other's gender, so nobody else in a shared queue could take their place.
  await ann.page.selectOption(byTestId("want"), "male");
  await ben.page.selectOption(byTestId("want"), "female");
  await ann.page.click(byTestId("queue-join"));
  await waitText(ann, "queue-state", /Waiting since/);
  await ben.page.click(byTestId("queue-join"));
  const statuses = await Promise.all(people.map((person) => waitText(person, "room-status", /^active$/)));
  const [annRoom, benRoom] = await Promise.all(people.map((person) => waitText(person, "room-id", /.+/)));
  if (annRoom !== benRoom) throw new Error(`matched into different rooms: ${annRoom} / ${benRoom}`);
  step(`matched into room ${annRoom} (${statuses.join(", ")})`);

  for (const person of people) {
    await waitText(person, "user-status", /^in_call$/);
    await waitText(person, "room-participants", /\(you\)/);
    // issue_tokens' `room` is the LiveKit room name, not the room id
    await waitText(person, "livekit-room", new RegExp(`^vchat-${annRoom}$`));
    await waitText(person, "livekit-expires", /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    await waitText(person, "ws-status", /^ready \(2 in the room\)$/);
  }
  step("tokens issued, both realtime sockets ready");

  await ann.page.fill(byTestId("chat-text"), `hello from ann ${run}`);
  await ann.page.click(byTestId("chat-send"));
  await waitText(ben, "chat-log", new RegExp(`hello from ann ${run}`));
  step("chat relayed");

  await ben.page.click(byTestId("invitations-load"));
  await waitText(ben, "invitations-cache", /^X-Cache: (HIT|MISS)$/);
  if (args.invitation) await waitText(ben, "invitations-list", new RegExp(args.invitation));
  step("invitations listed (X-Cache readable)");

  await ann.page.click(byTestId("room-leave"));
  await waitText(ann, "room-status", /^left$/);
  await waitText(ann, "room-notice", /You left the room/);
  await waitText(ben, "room-status", /^closed$/);
  await waitText(ben, "room-notice", /The room was closed \(normal\)/);
  await Promise.all(people.map((person) => waitText(person, "user-status", /^online$/)));
  step("one left, the other saw the room close; both online again");
}

let failed = false;
try {
  await main();
  console.log(JSON.stringify({ ok: true, ms: Math.round(performance.now() - started) }));
} catch (error) {
  failed = true;
  console.error(String(error?.stack ?? error));
  await mkdir(args.out, { recursive: true });
  for (const person of people) {
    await person.page.screenshot({ path: join(args.out, `${person.name}.png`), fullPage: true }).catch(() => undefined);
    await writeFile(join(args.out, `${person.name}-console.log`), person.console.join("\n") + "\n");
  }
  console.error(`screenshots and console logs in ${args.out}`);
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
