import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

// The README is the front door: one or two screens, the rest in docs/, and no link leading nowhere.

const root = path.join(__dirname, '..', '..');
const pages = ['README.md', ...readdirSync(path.join(root, 'docs')).map((file) => path.join('docs', file))].filter(
  (file) => file.endsWith('.md'),
);

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes. */
const anchorOf = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, '')
    .replace(/ /g, '-');

describe('the documentation', () => {
  it('keeps the README to at most 200 lines', () => {
    const lines = readFileSync(path.join(root, 'README.md'), 'utf8').split('\n').length;
    assert.ok(lines <= 200, `README.md has ${lines} lines`);
  });

  for (const page of pages) {
    it(`${page} links only to files and headings that exist`, () => {
      const text = readFileSync(path.join(root, page), 'utf8');
      for (const [, target, anchor] of text.matchAll(/\]\(([^)#\s]*)(#[^)\s]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const file = target ? path.join(root, path.dirname(page), target) : path.join(root, page);
        assert.ok(existsSync(file), `${page} links to ${target}, which does not exist`);
        if (!anchor || !file.endsWith('.md')) continue;
        const headings = [...readFileSync(file, 'utf8').matchAll(/^#+ (.*)$/gm)].map(([, heading]) =>
          anchorOf(heading!),
        );
        assert.ok(
          headings.includes(anchor.slice(1)),
          `${page} links to ${target}${anchor}, a heading that does not exist`,
        );
      }
    });
  }
});
