// The reference web app's Vite config. The app learns where the backend is at run time, from
// /config.json: in development this plugin serves the file the local stack writes
// (VCHAT_WEBAPP_CONFIG, set by devstack/webapp.py; default .dev/webapp.json), so one dev server
// works against whichever stack is running and nothing is rebuilt per stack. A deployed build
// ships its own config.json beside index.html (docs/frontend.md, "Deploying").
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

function stackConfig(): Plugin {
  return {
    name: "vchat-stack-config",
    configureServer(server) {
      server.middlewares.use("/config.json", (_request, response) => {
        const path = process.env.VCHAT_WEBAPP_CONFIG ?? `${repoRoot}.dev/webapp.json`;
        readFile(path).then(
          (body) => {
            response.setHeader("Content-Type", "application/json");
            response.setHeader("Cache-Control", "no-store");
            response.end(body);
          },
          () => {
            response.statusCode = 503;
            response.setHeader("Content-Type", "application/json");
            response.end(JSON.stringify({ error: `no stack config at ${path}: is \`make dev\` running?` }));
          },
        );
      });
    },
  };
}

export default defineConfig({
  plugins: [stackConfig()],
  resolve: {
    // The typed client is consumed as TypeScript source, straight from the repository.
    alias: { "@vchat/client": fileURLToPath(new URL("../../clients/web/src/index.ts", import.meta.url)) },
  },
  server: {
    host: "127.0.0.1",
    strictPort: true,
    fs: { allow: [repoRoot] },
  },
  // Pre-bundled at start, so the first page load does not trigger a re-optimisation and a reload.
  optimizeDeps: { include: ["firebase/app", "firebase/auth", "firebase/firestore"] },
  build: { target: "es2022" },
});
