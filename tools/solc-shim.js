#!/usr/bin/env node
// A stand-in for the native `solc` binary, built on the npm `solc` package (solc-js).
// It answers the two calls py-solc-x and brownie make: `--version` and
// `--standard-json [--allow-paths P] [--base-path P]` with the JSON input on stdin.
// Used only when the native compiler of the pinned version cannot be downloaded.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const args = process.argv.slice(2);

function optionValues(name) {
  const values = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name && i + 1 < args.length) values.push(args[i + 1]);
    else if (args[i].startsWith(name + '=')) values.push(args[i].slice(name.length + 1));
  }
  return values;
}

if (args.includes('--version')) {
  // Same shape as native solc; py-solc-x parses "X.Y.Z+commit.HASH".
  const full = solc.version().replace('.Emscripten.clang', '.Linux.g++');
  process.stdout.write('solc, the solidity compiler commandline interface\nVersion: ' + full + '\n');
} else if (args.includes('--standard-json')) {
  const roots = [process.cwd()];
  for (const v of optionValues('--base-path')) roots.push(v);
  for (const v of optionValues('--allow-paths')) for (const p of v.split(',')) if (p) roots.push(p);

  const findImports = (importPath) => {
    const candidates = path.isAbsolute(importPath)
      ? [importPath]
      : roots.map((r) => path.resolve(r, importPath));
    for (const candidate of candidates) {
      try {
        return { contents: fs.readFileSync(candidate, 'utf8') };
      } catch (e) { /* try the next root */ }
    }
    return { error: 'File not found: ' + importPath + ' (searched ' + roots.join(', ') + ')' };
  };

  const chunks = [];
  process.stdin.on('data', (c) => chunks.push(c));
  process.stdin.on('end', () => {
    const output = solc.compile(Buffer.concat(chunks).toString('utf8'), { import: findImports });
    // Let the process end by itself: an explicit exit can truncate a large write to a pipe.
    process.stdout.write(output);
  });
} else {
  process.stderr.write('solc-shim: only --version and --standard-json are supported\n');
  process.exitCode = 2;
}
