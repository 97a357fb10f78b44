// Tests of syntaxes/smx.tmLanguage.json with vscode-textmate + vscode-oniguruma (what VS Code runs):
//   (a) every .smx in the repository is tokenised with no character left to the root scope alone;
//   (b) hand-written lines get the scopes a reader expects;
//   (c) the grammar's word lists are the compiler's (read from its sources) and the JSON is the generator's output.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tokenize, tokenAt } from './support/textmate.mjs';
import * as compiler from './support/compiler-names.mjs';
import * as source from '../scripts/build-grammar.mjs';

const ROOT = 'source.smx';
// The lexer's WS rule, [ \t\r\n\f]: any other character is part of a token (or a lexer error) and needs a scope.
const isLexerWhitespace = (ch) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n' || ch === '\f';

// Files the compiler is meant to reject or that were written to break it: tests/mistakes (newcomer errors)
// and tests/fuzz-regressions (fuzzer inputs: stray characters, RTL marks, emoji, unbalanced parentheses).
// There every character must still get a scope, but an invalid.illegal one is allowed, since it is right to
// mark an error as one. Everywhere else (test cases, samples, benchmarks) the files compile, so an
// invalid.illegal scope there is a grammar bug.
const mayHoldErrors = (file) => file.startsWith('tests/mistakes/') || file.startsWith('tests/fuzz-regressions/');

function smxFiles() {
  const out = execFileSync('git', ['ls-files', '-z', '*.smx'], { cwd: compiler.repoRoot, encoding: 'utf8' });
  return out.split('\0').filter(Boolean).sort();
}

/** Problems of one file: characters with no scope but the root, and (where errors are not expected) invalid scopes. */
async function problemsOf(file) {
  const text = readFileSync(path.join(compiler.repoRoot, file), 'utf8');
  const lines = await tokenize(text);
  const problems = [];
  lines.forEach((line, index) => {
    for (let col = 0; col < line.text.length; col++) {
      const ch = line.text[col];
      if (isLexerWhitespace(ch)) continue;
      const token = tokenAt(line, col);
      const where = `${file}(${index + 1},${col + 1}) ${JSON.stringify(ch)} in ${JSON.stringify(line.text.trim())}`;
      if (!token || token.scopes.length < 2) {
        problems.push(`${where}: no scope besides ${ROOT}`);
      } else if (!mayHoldErrors(file) && token.scopes.some((s) => s.startsWith('invalid.'))) {
        problems.push(`${where}: ${token.scopes.at(-1)} in a file that compiles`);
        col = token.end - 1; // one report per token
      }
    }
  });
  return problems;
}

test('(a) every .smx in the repository is tokenised: every character gets a scope', async () => {
  const files = smxFiles();
  // The repository holds well over a hundred; a handful would mean git ls-files ran in the wrong place.
  assert.ok(files.length >= 100, `git ls-files found only ${files.length} .smx files`);
  for (const folder of ['tests/Cases/', 'tests/mistakes/', 'tests/fuzz-regressions/', 'samples/', 'bench/']) {
    assert.ok(files.some((f) => f.startsWith(folder)), `no .smx under ${folder}`);
  }
  const problems = [];
  for (const file of files) problems.push(...(await problemsOf(file)));
  assert.deepEqual(problems.slice(0, 40), [], `${problems.length} problem(s), the first 40 shown`);
});

test("(a) the docs' ```smx examples (compiled by the compiler's DocumentationTests) get no invalid scope", async () => {
  const problems = [];
  let examples = 0;
  for (const doc of ['README.md', 'docs/language.md']) {
    const text = readFileSync(path.join(compiler.repoRoot, doc), 'utf8');
    for (const [, example] of text.matchAll(/```smx\n(.*?)```/gs)) {
      examples++;
      const lines = await tokenize(example);
      for (const line of lines) {
        for (const t of line.tokens) {
          const bad = t.scopes.find((s) => s.startsWith('invalid.'));
          const word = line.text.slice(t.start, t.end);
          if (bad) problems.push(`${doc}: ${JSON.stringify(word)} is ${bad} in ${JSON.stringify(line.text)}`);
          if (word.trim() && t.scopes.length < 2) problems.push(`${doc}: ${JSON.stringify(word)} has no scope`);
        }
      }
    }
  }
  assert.ok(examples >= 12, `only ${examples} smx examples found in the docs`);
  assert.deepEqual(problems, []);
});

test('(a) the error marking itself: the deliberately wrong files do get invalid.illegal where they are wrong', async () => {
  // Without this the rule above could pass because everything odd happened to fall into some benign scope.
  const cases = [
    ['tests/mistakes/21-misspelt-structure.smx', 'lowrnak', 'invalid.illegal.unknown-structure.smx'],
    ['tests/mistakes/23-keyword-as-layer-name.smx', 'frozen', 'invalid.illegal.keyword-as-name.smx'],
    ['tests/mistakes/03-argument-with-equals.smx', '= 8', 'invalid.illegal.assignment-in-arguments.smx'],
    ['tests/mistakes/18-stray-parenthesis.smx', ');', 'invalid.illegal.unmatched-parenthesis.smx'],
  ];
  for (const [file, needle, scope] of cases) {
    const text = readFileSync(path.join(compiler.repoRoot, file), 'utf8');
    assert.ok(scopesAt(await tokenize(text), needle, { code: true }).includes(scope), `${file}: '${needle}' is not ${scope}`);
  }
});

/** The first occurrence of needle that does not start inside a longer word (`rank` is not the end of `lowrank`). */
function wordIndexOf(text, needle) {
  const isWordChar = (ch) => ch !== undefined && /[\p{L}\p{N}\p{M}_]/u.test(ch);
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
    if (!(isWordChar(needle[0]) && isWordChar(text[i - 1]))) return i;
  }
  return -1;
}

/**
 * The scopes of the token at the first occurrence of needle. With code: true, comment lines are skipped (the
 * mistakes' headers quote the code). The token must cover the whole needle's first word, or the scope would
 * belong to a fragment.
 */
function scopesAt(lines, needle, { code = false } = {}) {
  for (const line of lines) {
    if (code && line.text.trimStart().startsWith('//')) continue;
    const col = wordIndexOf(line.text, needle);
    if (col < 0) continue;
    const token = tokenAt(line, col);
    assert.ok(token, `no token at '${needle}' in ${JSON.stringify(line.text)}`);
    const firstWord = needle.match(/^[\p{L}\p{N}\p{M}_]+|^[\s\S]/u)[0];
    assert.ok(token.end >= col + firstWord.length,
      `'${firstWord}' is split: token ${JSON.stringify(line.text.slice(token.start, token.end))} (${token.scopes.at(-1)})`);
    return token.scopes;
  }
  throw new Error(`'${needle}' not found`);
}

/** [text, needle, the scope the needle's token must have (innermost or not)] */
const expectations = [
  // keywords
  ['namespace My.Layers;', 'namespace', 'storage.type.namespace.smx'],
  ['namespace My.Layers;', 'My', 'entity.name.namespace.smx'],
  ['namespace My.Layers;', 'Layers', 'entity.name.namespace.smx'],
  ['namespace My.Layers;', '.', 'punctuation.accessor.smx'],
  ['namespace My.Layers;', ';', 'punctuation.terminator.statement.smx'],
  ['const d = 1024;', 'const', 'storage.type.const.smx'],
  ['const d = 1024;', 'd', 'variable.other.constant.smx'],
  ['layer Mixer : d -> d = monarch(blocks: 32) + bias;', 'layer', 'storage.type.layer.smx'],
  ['layer Lora : 64 -> 64 = frozen dense + 2.0 * lowrank(rank: 8);', 'frozen', 'storage.modifier.frozen.smx'],
  ['layer Mixer : d -> d = monarch(blocks: 32) + bias;', 'bias', 'keyword.other.bias.smx'],
  // the layer name, also when the shape is on the next line, and a Unicode one
  ['layer Mixer : d -> d = monarch(blocks: 32) + bias;', 'Mixer', 'entity.name.type.layer.smx'],
  ['layer Größe\n  : 8 -> 8 = diag();', 'Größe', 'entity.name.type.layer.smx'],
  ['layer 层 : 8 -> 8 = diag();', '层', 'entity.name.type.layer.smx'],
  // structure names, with and without parentheses, and the core forms
  ['layer A : 64 -> 64 = dense + bias;', 'dense', 'support.function.structure.smx'],
  ['layer A : 64 -> 64 = monarch(blocks: 8);', 'monarch', 'support.function.structure.smx'],
  ['layer A : 64 -> 64 = blockdiag(blocks: 8);', 'blockdiag', 'support.function.structure.smx'],
  ['layer A : 64 -> 64 = butterfly();', 'butterfly', 'support.function.structure.smx'],
  ['layer A : 64 -> 64 = perm(reverse) * diag();', 'diag', 'support.function.structure.smx'],
  ['layer A : 64 -> 64 = kron(dense(8 -> 8), lowrank(8 -> 8, rank: 2));', 'kron', 'support.function.core.smx'],
  ['layer A : 64 -> 64 = diag() * normalize(dense);', 'normalize', 'support.function.core.smx'],
  // a name that only starts like a structure is not one
  ['layer A : 64 -> 64 = densest;', 'densest', 'variable.other.smx'],
  ['layer A : 64 -> 64 = dense_2;', 'dense_2', 'variable.other.smx'],
  // argument names and option words; `butterfly` after `pattern:` is an option, not the structure
  ['layer A : 64 -> 64 = lowrank(rank: 8);', 'rank', 'variable.parameter.smx'],
  ['layer A : 64 -> 64 = lowrank(rank: 8);', ': 8', 'punctuation.separator.key-value.smx'],
  ['layer A : 64 -> 64 = frozen dense(quant: nf4, group: 64);', 'group', 'variable.parameter.smx'],
  ['layer A : 64 -> 64 = frozen dense(quant: nf4, group: 64);', 'nf4', 'constant.language.option.smx'],
  ['layer A : 64 -> 64 = perm(random, seed: 7);', 'random', 'constant.language.option.smx'],
  ['layer A : 64 -> 64 = perm(random, seed: 7);', 'seed', 'variable.parameter.smx'],
  ['layer A : 64 -> 64 = blocksparse(block: 8, pattern: butterfly);', 'butterfly', 'constant.language.option.smx'],
  ['layer A : 64 -> 64 = blocksparse(block: 8, pattern: butterfly);', 'block:', 'variable.parameter.smx'],
  // an argument name on a line of its own
  ['layer A : 64 -> 64 = lowrank(\n    rank: 8);', 'rank', 'variable.parameter.smx'],
  // the layer's ':' is not an argument's
  ['layer A : 64 -> 64 = dense;', ': 64', 'punctuation.separator.colon.smx'],
  // numbers: ints, decimals, exponents
  ['const d = 1024;', '1024', 'constant.numeric.integer.smx'],
  ['layer A : 64 -> 64 = 2.0 * dense;', '2.0', 'constant.numeric.float.smx'],
  ['layer A : 64 -> 64 = 1. * dense;', '1.', 'constant.numeric.float.smx'],
  ['layer A : 64 -> 64 = .5 * dense;', '.5', 'constant.numeric.float.smx'],
  ['const c = 7.5e-1;', '7.5e-1', 'constant.numeric.float.smx'],
  ['const c = 3E+2;', '3E+2', 'constant.numeric.float.smx'],
  ['const c = 2e8;', '2e8', 'constant.numeric.float.smx'],
  // operators and punctuation
  ['layer A : 64 -> 64 = dense;', '->', 'keyword.operator.arrow.smx'],
  ['layer A : 64 -> 64 = dense * diag();', '*', 'keyword.operator.arithmetic.smx'],
  ['layer A : 64 -> 64 = dense + diag();', '+', 'keyword.operator.arithmetic.smx'],
  ['layer A : 64 -> 64 = dense - diag();', '- diag', 'keyword.operator.arithmetic.smx'],
  ['const c = 8 / 2;', '/', 'keyword.operator.arithmetic.smx'],
  ['layer A : 64 -> 64 = dense;', '=', 'keyword.operator.assignment.smx'],
  ['layer A : 64 -> 64 = lowrank(8 -> 8, rank: 2);', ',', 'punctuation.separator.comma.smx'],
  ['layer A : 64 -> 64 = lowrank(rank: 2);', '(', 'punctuation.parenthesis.open.smx'],
  ['layer A : 64 -> 64 = lowrank(rank: 2);', ')', 'punctuation.parenthesis.close.smx'],
  // comments and doc comments
  ['// a comment', '// a', 'comment.line.double-slash.smx'],
  ['layer A : 64 -> 64 = dense; // trailing', 'trailing', 'comment.line.double-slash.smx'],
  ['/// Doc comment (becomes <summary>).', 'Doc', 'comment.block.documentation.smx'],
  ['/// Doc comment', '///', 'punctuation.definition.comment.smx'],
  ['layer A : 64 -> 64 = /* inline */ dense;', 'inline', 'comment.block.smx'],
  ['layer A : 64 -> 64 = /* inline */ dense;', 'dense', 'support.function.structure.smx'],
  ['/* a block\n   layer B : 4 -> 4 = dense;\n*/', 'layer', 'comment.block.smx'],
  // characters the lexer has no token for; a surrogate pair is one character; a combining mark continues a name
  ['layer A : 8 -> 8 = dense @ diag();', '@', 'invalid.illegal.character.smx'],
  ['layer A : 8 -> 8 = dense \u{1F600};', '\u{1F600}', 'invalid.illegal.character.smx'],
  ['layer A : 8 -> 8 = dense\u200F;', '\u200F', 'invalid.illegal.character.smx'],
  ['layer A : 8 -> 8 = dense\u2028;', '\u2028', 'invalid.illegal.character.smx'],
  ['layer A : 8 -> 8 = dense\u0301;', 'dense\u0301', 'variable.other.smx'],
  // a comment's words are the comment's, even keywords
  ['// layer dense frozen 12', 'dense', 'comment.line.double-slash.smx'],
];

test('(b) hand-written lines get the expected scopes', async () => {
  const failures = [];
  for (const [text, needle, scope] of expectations) {
    try {
      const scopes = scopesAt(await tokenize(text), needle);
      if (!scopes.includes(scope)) failures.push(`${JSON.stringify(text)}: '${needle}' has ${scopes.join(' ')}, expected ${scope}`);
    } catch (e) {
      failures.push(`${JSON.stringify(text)}: ${e.message}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('(b) a comment inside a declaration and an unclosed parenthesis do not colour the rest of the file', async () => {
  const lines = await tokenize('layer A : 64 -> 64 = lowrank(rank: 8;\nlayer B : 64 -> 64 = dense;');
  assert.ok(scopesAt(lines.slice(1), 'B').includes('entity.name.type.layer.smx'));
  assert.ok(!scopesAt(lines.slice(1), 'dense').includes('meta.parens.smx'), 'the parenthesis region ran past the ;');
});

test('(c) the structure names are StructureRegistry.All, in its order', () => {
  assert.deepEqual(source.structureNames, compiler.structureNames());
});

test('(c) the core forms are CoreForms', () => {
  assert.deepEqual([...source.coreFormNames].sort(), [...compiler.coreFormNames()].sort());
});

test('(c) the option words are the Option arguments of every spec', () => {
  assert.deepEqual([...source.optionValues].sort(), [...compiler.optionValues()].sort());
});

test('(c) the keywords are the quoted words of grammar/StructMat.g4, and bias is CoreForms.Bias', () => {
  assert.deepEqual([...source.declarationKeywords, 'frozen'].sort(), [...compiler.grammarKeywords()].sort());
  assert.equal(source.biasWord, compiler.biasWord());
});

test('(c) syntaxes/smx.tmLanguage.json is what scripts/build-grammar.mjs writes', () => {
  const committed = readFileSync(new URL('../syntaxes/smx.tmLanguage.json', import.meta.url), 'utf8');
  assert.ok(committed === source.grammarJson(), 'the JSON is stale or edited by hand: run `node scripts/build-grammar.mjs`');
});

test('(b) every structure and core form of the compiler is highlighted as one, called and bare', async () => {
  const failures = [];
  const cases = [
    ...compiler.structureNames().map((name) => [name, 'support.function.structure.smx']),
    ...compiler.coreFormNames().map((name) => [name, 'support.function.core.smx']),
  ];
  for (const [name, scope] of cases) {
    for (const text of [`layer A : 64 -> 64 = ${name}(rank: 2);`, `layer A : 64 -> 64 = frozen ${name} + bias;`]) {
      const scopes = scopesAt(await tokenize(text), name);
      if (!scopes.includes(scope)) failures.push(`${text}: ${scopes.join(' ')}`);
    }
  }
  assert.deepEqual(failures, []);
});
