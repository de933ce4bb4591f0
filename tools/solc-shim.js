#!/usr/bin/env node
// A stand-in for the native `solc` binary, built on the npm `solc` package (solc-js).
// It answers what py-solc-x, brownie and crytic-compile (slither) call:
//   --version
//   --standard-json [--allow-paths P] [--base-path P]      (JSON input on stdin)
//   [prefix=path ...] FILE... --combined-json FIELDS [--evm-version V] [--optimize] [--allow-paths P]
// Used only when the native compiler of the pinned version cannot be downloaded.
// Imports not given in the input are read only inside the allowed directories, as native solc does
// (working directory, --base-path, --include-path, --allow-paths, this project); others are refused.
'use strict';
const fs = require('fs');
const path = require('path');
const solc = require('solc');

const args = process.argv.slice(2);
const PROJECT = path.resolve(__dirname, '..');

// Like native solc, imports are read only from allowed directories: the working directory (the empty base
// path), --base-path, --include-path and --allow-paths, plus this project. A path is allowed when it is
// inside one of them after symbolic links are resolved (so neither `../` nor a link leads out).
function allowedRoots() {
  const roots = [process.cwd(), PROJECT];
  for (const v of optionValues('--base-path')) roots.push(v);
  for (const v of optionValues('--include-path')) roots.push(v);
  for (const v of optionValues('--allow-paths')) for (const p of v.split(',')) if (p) roots.push(p);
  const real = [];
  for (const r of roots) {
    try { real.push(fs.realpathSync(path.resolve(r))); } catch (e) { /* a root that does not exist allows nothing */ }
  }
  return [...new Set(real)];
}

function inside(root, file) {
  const rel = path.relative(root, file);
  return rel === '' || (!rel.startsWith('..' + path.sep) && rel !== '..' && !path.isAbsolute(rel));
}

// findImports(importPath) for solc-js: the contents of the first candidate that exists inside an allowed
// root, or an error naming the refusal (outside) or the search (not found).
function importReader(searchRoots, extraAllowed = []) {
  const allowed = allowedRoots();
  for (const r of extraAllowed) {
    try { allowed.push(fs.realpathSync(path.resolve(r))); } catch (e) { /* nothing to allow */ }
  }
  return (importPath) => {
    const candidates = path.isAbsolute(importPath)
      ? [path.resolve(importPath)]
      : searchRoots.map((r) => path.resolve(r, importPath));
    let refused = null;
    for (const candidate of candidates) {
      let real;
      try { real = fs.realpathSync(candidate); } catch (e) { continue; }
      if (!allowed.some((root) => inside(root, real))) { refused = real; continue; }
      try {
        return { contents: fs.readFileSync(real, 'utf8') };
      } catch (e) { /* a folder or unreadable: try the next root */ }
    }
    if (refused !== null) {
      return { error: 'File outside of allowed directories: ' + importPath + ' (resolves to ' + refused +
        '; allowed: ' + allowed.join(', ') + '; add its folder with --allow-paths)' };
    }
    return { error: 'File not found: ' + importPath + ' (searched ' + searchRoots.join(', ') + ')' };
  };
}

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
  for (const v of optionValues('--include-path')) roots.push(v);
  for (const v of optionValues('--allow-paths')) for (const p of v.split(',')) if (p) roots.push(p);
  const findImports = importReader(roots);

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
  for (const v of optionValues('--base-path')) roots.push(v);
  for (const v of optionValues('--include-path')) roots.push(v);
  for (const v of optionValues('--allow-paths')) for (const p of v.split(',')) if (p) roots.push(p);
  // as native solc: the folders of the files named on the command line are allowed too
  const findImports = importReader(roots, files.map((f) => path.dirname(path.resolve(f))));
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
