// The TextMate grammar against the real lexer. test/lexer-tokens.verified.json holds the tokens ANTLR's
// StructMatLexer (grammar/StructMat.g4) gives every tracked .smx, written and kept current by
// tests/StructMat.Compiler.Tests/EditorLexerTokensTests.cs. For every file the editor's scopes must agree:
// each token's characters get a scope of its kind (and an IDENT is one TextMate token, not split or joined),
// every non-whitespace character between tokens is a comment (the lexer skips only WS and comments), and each
// character the lexer rejects is invalid.illegal.character.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { tokenize } from './support/textmate.mjs';
import { repoRoot } from './support/compiler-names.mjs';

const lexed = JSON.parse(readFileSync(new URL('./lexer-tokens.verified.json', import.meta.url), 'utf8'));

/** Per lexer token type, the scopes a character of it may have (one of them must be present). */
const allowed = {
  INT: ['constant.numeric.integer.smx'],
  FLOAT: ['constant.numeric.float.smx'],
  DOC_COMMENT: ['comment.block.documentation.smx'],
  UNTERMINATED_COMMENT: ['comment.block.smx'],
  IDENT: [
    'support.function.structure.smx', 'support.function.core.smx', 'constant.language.option.smx',
    'variable.other.smx', 'variable.other.constant.smx', 'variable.parameter.smx',
    'entity.name.type.layer.smx', 'entity.name.namespace.smx', 'keyword.other.bias.smx',
    'invalid.illegal.unknown-structure.smx',
  ],
  "'namespace'": ['storage.type.namespace.smx', 'invalid.illegal.keyword-as-name.smx'],
  "'const'": ['storage.type.const.smx', 'invalid.illegal.keyword-as-name.smx'],
  "'layer'": ['storage.type.layer.smx', 'invalid.illegal.keyword-as-name.smx'],
  "'frozen'": ['storage.modifier.frozen.smx', 'invalid.illegal.keyword-as-name.smx'],
  "'->'": ['keyword.operator.arrow.smx'],
  "'*'": ['keyword.operator.arithmetic.smx'],
  "'/'": ['keyword.operator.arithmetic.smx'],
  "'+'": ['keyword.operator.arithmetic.smx'],
  "'-'": ['keyword.operator.arithmetic.smx'],
  "'='": ['keyword.operator.assignment.smx', 'invalid.illegal.assignment-in-arguments.smx'],
  "';'": ['punctuation.terminator.statement.smx'],
  "','": ['punctuation.separator.comma.smx'],
  "':'": ['punctuation.separator.colon.smx', 'punctuation.separator.key-value.smx'],
  "'('": ['punctuation.parenthesis.open.smx'],
  "')'": ['punctuation.parenthesis.close.smx', 'invalid.illegal.unmatched-parenthesis.smx'],
  "'.'": ['punctuation.accessor.smx'],
  ERROR: ['invalid.illegal.character.smx'],
};
const gapScopes = ['comment.line.double-slash.smx', 'comment.block.smx'];
const isLexerWhitespace = (ch) => ' \t\r\n\f'.includes(ch);

/** The scopes of every UTF-16 offset of the text, and the TextMate token ([start, end) as offsets) holding it. */
async function scopesByOffset(text) {
  const lines = await tokenize(text);
  const at = new Array(text.length);
  let lineStart = 0;
  for (const line of lines) {
    for (const t of line.tokens) {
      for (let i = t.start; i < t.end; i++) at[lineStart + i] = { scopes: t.scopes, start: lineStart + t.start, end: lineStart + t.end };
    }
    lineStart += line.text.length;
    while (lineStart < text.length && (text[lineStart] === '\r' || text[lineStart] === '\n')) {
      if (text[lineStart++] === '\n') break;
    }
  }
  return at;
}

function position(text, offset) {
  const before = text.slice(0, offset).split('\n');
  return `(${before.length},${before.at(-1).length + 1})`;
}

test('the lexer tokens were written for exactly the tracked .smx files', () => {
  const tracked = execFileSync('git', ['ls-files', '-z', '*.smx'], { cwd: repoRoot, encoding: 'utf8' }).split('\0').filter(Boolean).sort();
  assert.deepEqual(Object.keys(lexed), tracked,
    'regenerate: STRUCTMAT_UPDATE_SNAPSHOTS=1 dotnet test tests/StructMat.Compiler.Tests --filter FullyQualifiedName~EditorLexerTokens');
});

test("every file's scopes agree with the lexer's tokens", async () => {
  const problems = [];
  for (const [file, tokens] of Object.entries(lexed)) {
    const text = readFileSync(path.join(repoRoot, file), 'utf8');
    const at = await scopesByOffset(text);
    const covered = new Array(text.length).fill(false);
    const report = (offset, message) => problems.push(`${file}${position(text, offset)} ${JSON.stringify(text.slice(offset, offset + 12))}: ${message}`);

    for (const [start, end, type] of tokens) {
      const kinds = allowed[type];
      if (!kinds) { report(start, `lexer token type ${type} has no expected scopes here`); continue; }
      covered.fill(true, start, end);
      for (let i = start; i < end; i++) {
        if (isLexerWhitespace(text[i])) continue; // inside a comment token
        const scopes = at[i]?.scopes ?? [];
        if (!kinds.some((k) => scopes.includes(k))) { report(i, `${type} has ${scopes.slice(1).join(' ') || 'no scope'}`); break; }
        if (type !== 'DOC_COMMENT' && type !== 'UNTERMINATED_COMMENT' && scopes.some((s) => s.startsWith('comment.'))) {
          report(i, `${type} is coloured as a comment`); break;
        }
      }
      if (type === 'IDENT' && (at[start]?.start !== start || at[end - 1]?.end !== end)) {
        report(start, `IDENT ${JSON.stringify(text.slice(start, end))} is not one TextMate token`);
      }
    }
    for (let i = 0; i < text.length; i++) {
      if (covered[i] || isLexerWhitespace(text[i])) continue;
      const scopes = at[i]?.scopes ?? [];
      if (!gapScopes.some((k) => scopes.includes(k))) {
        report(i, `the lexer skips this as a comment, the grammar gives ${scopes.slice(1).join(' ') || 'no scope'}`);
        while (i + 1 < text.length && !covered[i + 1]) i++; // one report per gap
      }
    }
  }
  assert.deepEqual(problems.slice(0, 30), [], `${problems.length} disagreement(s), the first 30 shown`);
});
