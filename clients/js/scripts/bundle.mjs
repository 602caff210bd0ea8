// Joins tsc's per-module output in dist/ into one browser-ready ES module,
// dist/gatepass.js, with no imports at all, and writes dist/gatepass.d.ts
// beside it. It is deliberately simple and refuses anything it does not
// understand: the sources import only relative modules, with named imports
// on value declarations, and index.ts only re-exports names.

import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const dist = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");
const importRe = /^import\s*(?:\{[^}]*\}\s*from\s*)?"([^"]+)";\s*$/gm;
const reexportRe = /^export\s*\{([^}]*)\}\s*from\s*"([^"]+)";\s*$/gm;

const fail = (message) => {
  console.error(`bundle: ${message}`);
  process.exit(1);
};

const read = (file) => readFileSync(join(dist, file), "utf8");

// Order the modules so each comes after the ones it imports.
const order = [];
const visiting = new Set();
const visit = (file) => {
  if (order.includes(file)) return;
  if (visiting.has(file)) fail(`import cycle through ${file}`);
  visiting.add(file);
  for (const [, spec] of read(file).matchAll(importRe)) {
    if (!spec.startsWith("./")) fail(`${file} imports ${spec}`);
    visit(spec.slice(2));
  }
  visiting.delete(file);
  order.push(file);
};

// index.js only re-exports; its names become the bundle's export list.
const index = read("index.js");
const exported = [];
for (const [, names, spec] of index.matchAll(reexportRe)) {
  visit(spec.slice(2));
  for (const name of names.split(",").map((n) => n.trim())) {
    if (name === "") continue;
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) fail(`unsupported export ${name}`);
    exported.push(name);
  }
}
const leftover = index
  .replace(reexportRe, "")
  .replace(/^\/\/.*$/gm, "")
  .replace(/^export \{\};\s*$/gm, "")
  .trim();
if (leftover !== "") fail(`index.js holds more than re-exports: ${leftover}`);

// Strip each module's imports and export keywords; refuse duplicate names.
const declared = new Map();
const declRe =
  /^(?:export\s+)?(?:async\s+)?(?:function\*?|class|const|let|var)\s+([A-Za-z_$][\w$]*)/gm;
const parts = order.map((file) => {
  let code = read(file).replace(importRe, "");
  code = code.replace(/^export \{\};\s*$/gm, "");
  if (/^export\s*\{/m.test(code) || /^export\s+default\b/m.test(code)) {
    fail(`${file} uses an export form the bundler does not handle`);
  }
  code = code.replace(
    /^export\s+((?:async\s+)?(?:function|class|const|let|var)\b)/gm,
    "$1",
  );
  if (/^\s*(?:import|export)\b/m.test(code)) {
    fail(`${file} still has an import or export statement`);
  }
  for (const [, name] of code.matchAll(declRe)) {
    if (declared.has(name)) {
      fail(`${name} is declared in both ${declared.get(name)} and ${file}`);
    }
    declared.set(name, file);
  }
  return `// ---- ${file.replace(/\.js$/, ".ts")} ----\n${code.trim()}\n`;
});
for (const name of exported) {
  if (!declared.has(name)) fail(`exported ${name} is not declared`);
}

const pkg = JSON.parse(readFileSync(join(dist, "..", "package.json"), "utf8"));
const header =
  `// ${pkg.name} ${pkg.version}: one ES module, no imports.\n` +
  `// Built from src/ by npm run build; do not edit.\n`;
const footer = `export { ${exported.join(", ")} };\n`;
writeFileSync(join(dist, "gatepass.js"), [header, ...parts, footer].join("\n"));
writeFileSync(join(dist, "gatepass.d.ts"), 'export * from "./index.js";\n');
console.log(
  `bundle: dist/gatepass.js from ${order.length} modules, ` +
    `${exported.length} exports`,
);
