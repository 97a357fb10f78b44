// The extension manifest and the language configuration agree with each other, with the grammar file and with
// the comment rules of grammar/StructMat.g4.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from './support/compiler-names.mjs';

const extensionRoot = fileURLToPath(new URL('..', import.meta.url));
const json = (file) => JSON.parse(readFileSync(path.join(extensionRoot, file), 'utf8'));

test('package.json contributes the smx language for .smx files and the source.smx grammar, and the files exist', () => {
  const manifest = json('package.json');
  assert.equal(manifest.publisher, 'structmat');
  assert.ok(manifest.engines?.vscode, 'engines.vscode is missing');
  const [language] = manifest.contributes.languages;
  assert.equal(language.id, 'smx');
  assert.deepEqual(language.extensions, ['.smx']);
  assert.ok(existsSync(path.join(extensionRoot, language.configuration)), `${language.configuration} is missing`);
  const [grammar] = manifest.contributes.grammars;
  assert.equal(grammar.language, 'smx');
  assert.equal(grammar.scopeName, 'source.smx');
  assert.equal(json(grammar.path).scopeName, grammar.scopeName, `${grammar.path} declares another scopeName`);
});

test("language-configuration.json's comments are the lexer's LINE_COMMENT and BLOCK_COMMENT", () => {
  const g4 = readFileSync(path.join(repoRoot, 'grammar/StructMat.g4'), 'utf8');
  const line = g4.match(/^LINE_COMMENT\s*:\s*'([^']+)'/m)?.[1];
  const block = g4.match(/^BLOCK_COMMENT\s*:\s*'([^']+)'\s*\.\*\?\s*'([^']+)'/m)?.slice(1);
  assert.ok(line && block, 'LINE_COMMENT or BLOCK_COMMENT not found in StructMat.g4');
  const config = json('language-configuration.json');
  assert.equal(config.comments.lineComment, line);
  assert.deepEqual(config.comments.blockComment, block);
  // '(' ')' are the language's only brackets: the grammar's literals hold no [ ] { }.
  assert.deepEqual(config.brackets, [['(', ')']]);
  assert.ok(!/'[\[\]{}]'/.test(g4), 'StructMat.g4 has a bracket literal the configuration lacks');
});
