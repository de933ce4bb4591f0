#!/usr/bin/env node
// A stand-in for the native `solc` binary, built on the npm `solc` package (solc-js).
// It answers what py-solc-x, brownie and crytic-compile (slither) call:
//   --version
//   --standard-json [--allow-paths P] [--base-path P]      (JSON input on stdin)
//   [prefix=path ...] FILE... --combined-json FIELDS [--evm-version V] [--optimize] [--allow-paths P]
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
} else if (args.includes('--combined-json')) {
  // Legacy command line mode, as crytic-compile uses it: translated to standard JSON and back.
  const fields = optionValues('--combined-json')[0].split(',');
  const remappings = [];
  const files = [];
  const valued = new Set(['--combined-json', '--allow-paths', '--base-path', '--evm-version', '--optimize-runs',
    '--include-path']);
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (valued.has(a)) { i++; continue; }
    if (a.startsWith('--')) continue;
    if (a.includes('=')) remappings.push(a); else files.push(a);
  }
  const roots = [process.cwd()];
  for (const v of optionValues('--allow-paths')) for (const p of v.split(',')) if (p) roots.push(p);
  const findImports = (importPath) => {
    for (const r of path.isAbsolute(importPath) ? [''] : roots) {
      try { return { contents: fs.readFileSync(path.resolve(r, importPath), 'utf8') }; } catch (e) { /* next */ }
    }
    return { error: 'File not found: ' + importPath };
  };
  const sources = {};
  for (const f of files) sources[f] = { content: fs.readFileSync(f, 'utf8') };
  const settings = {
    remappings,
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode', 'evm.deployedBytecode', 'evm.methodIdentifiers',
      'userdoc', 'devdoc'], '': ['ast'] } },
  };
  const evm = optionValues('--evm-version')[0];
  if (evm) settings.evmVersion = evm;
  if (args.includes('--optimize')) {
    settings.optimizer = { enabled: true, runs: Number(optionValues('--optimize-runs')[0] || 200) };
  }
  const out = JSON.parse(solc.compile(JSON.stringify({ language: 'Solidity', sources, settings }),
    { import: findImports }));
  const errors = (out.errors || []).filter((e) => e.severity === 'error');
  for (const e of out.errors || []) process.stderr.write(e.formattedMessage || e.message);
  if (errors.length) {
    process.exitCode = 1;
  } else {
    const result = { contracts: {}, sources: {}, sourceList: Object.keys(out.sources || {}),
      version: solc.version() };
    for (const [file, byName] of Object.entries(out.contracts || {})) {
      for (const [name, c] of Object.entries(byName)) {
        const entry = {};
        if (fields.includes('abi')) entry.abi = c.abi;
        if (fields.includes('bin')) entry.bin = c.evm.bytecode.object;
        if (fields.includes('bin-runtime')) entry['bin-runtime'] = c.evm.deployedBytecode.object;
        if (fields.includes('srcmap')) entry.srcmap = c.evm.bytecode.sourceMap;
        if (fields.includes('srcmap-runtime')) entry['srcmap-runtime'] = c.evm.deployedBytecode.sourceMap;
        if (fields.includes('userdoc')) entry.userdoc = c.userdoc;
        if (fields.includes('devdoc')) entry.devdoc = c.devdoc;
        if (fields.includes('hashes')) entry.hashes = c.evm.methodIdentifiers;
        result.contracts[file + ':' + name] = entry;
      }
    }
    for (const [file, src] of Object.entries(out.sources || {})) result.sources[file] = { AST: src.ast, id: src.id };
    process.stdout.write(JSON.stringify(result));
  }
} else {
  process.stderr.write('solc-shim: supports --version, --standard-json and --combined-json\n');
  process.exitCode = 2;
}
