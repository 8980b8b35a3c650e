// Types of every HTTP function from its OpenAPI document (docs/openapi/<api>.yaml), one file each.
//   node scripts/generate.mjs [outDir]     (default: src/generated)
// tests/test_web_client.py regenerates into a temporary folder and fails when the committed files
// differ, so a document change without `npm run generate` cannot be merged.
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";

const here = dirname(fileURLToPath(import.meta.url));
const documents = resolve(here, "../../../docs/openapi");
const outDir = resolve(process.argv[2] ?? join(here, "../src/generated"));

await mkdir(outDir, { recursive: true });
const names = (await readdir(documents)).filter((name) => name.endsWith(".yaml")).sort();
for (const name of names) {
  const api = name.replace(/\.yaml$/, "");
  const ast = await openapiTS(pathToFileURL(join(documents, name)));
  const header =
    `// Generated from docs/openapi/${name} by \`npm run generate\` (clients/web): do not edit.\n` +
    "// tests/test_web_client.py fails when this file and the document disagree.\n\n";
  await writeFile(join(outDir, `${api}.ts`), header + astToString(ast));
  console.log(`${api}.ts`);
}
