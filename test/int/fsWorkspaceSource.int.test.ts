import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { FsWorkspaceSource } from '../../src/adapters/fs/fsWorkspaceSource.js';
import type { SourceFile, WalkRules } from '../../src/app/ingest/workspaceSource.js';
import { SourceReadError } from '../../src/app/ingest/workspaceSource.js';
import { FolderNotFoundError } from '../../src/core/errors.js';
import { tempDir } from '../support/tmp.js';

const RULES: WalkRules = { include: [], exclude: [], respectGitignore: true };

/** A workspace folder with the given files (path -> content). */
function workspace(t: unknown, files: Record<string, string>): string {
  const root = tempDir(t, 'rag-ledger-ws-');
  for (const [path, content] of Object.entries(files)) write(root, path, content);
  return root;
}

function write(root: string, path: string, content = `content of ${path}\n`): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
}

async function walk(source: FsWorkspaceSource, rules: Partial<WalkRules> = {}, signal?: AbortSignal): Promise<string[]> {
  const out: string[] = [];
  for await (const f of source.walk({ ...RULES, ...rules }, signal)) if (!f.skip) out.push(f.path);
  return out;
}

/** The entries the walk lists but will not read, as "path reason: detail". */
async function skipped(root: string): Promise<string[]> {
  const out: string[] = [];
  for await (const f of new FsWorkspaceSource(root).walk(RULES)) if (f.skip) out.push(`${f.path} ${f.skip.reason}: ${f.skip.detail}`);
  return out;
}

const LIMITS = { maxBytes: 1024 * 1024 };

const paths = async (root: string, rules: Partial<WalkRules> = {}, skip: string[] = []): Promise<string[]> => walk(new FsWorkspaceSource(root, skip), rules);

describe('FsWorkspaceSource.walk: ignore files', () => {
  test('.gitignore applies at every level; a deeper file re-includes with !', async (t) => {
    const root = workspace(t, {
      '.gitignore': '*.log\nbuild-output/\n/rootonly.txt\n',
      'a.md': '',
      'app.log': '',
      'rootonly.txt': '',
      'build-output/x.md': '',
      'sub/.gitignore': '!keep.log\nlocal.md\n',
      'sub/keep.log': '',
      'sub/other.log': '',
      'sub/local.md': '',
      'sub/rootonly.txt': '',
      'sub/deeper/keep.log': '',
      'sub/deeper/local.md': '',
      'sibling/keep.log': '',
      'sibling/local.md': '',
    });
    assert.deepEqual(await paths(root), [
      '.gitignore',
      'a.md',
      'sibling/local.md',
      'sub/.gitignore',
      'sub/deeper/keep.log',
      'sub/keep.log',
      'sub/rootonly.txt',
    ]);
  });

  test('a directory ignored by a parent stays ignored: a deeper ! cannot re-include inside it', async (t) => {
    const root = workspace(t, { '.gitignore': 'vendor/\n', 'vendor/.gitignore': '!*\n', 'vendor/lib.md': '', 'ok.md': '' });
    assert.deepEqual(await paths(root), ['.gitignore', 'ok.md']);
  });

  test('.ragledgerignore works like .gitignore, and is honoured with respectGitignore: false', async (t) => {
    const root = workspace(t, {
      '.gitignore': 'git-ignored.md\n',
      '.ragledgerignore': 'rag-ignored.md\ndrafts/\n',
      'git-ignored.md': '',
      'rag-ignored.md': '',
      'drafts/d.md': '',
      'sub/.ragledgerignore': 'secret-notes.md\n',
      'sub/secret-notes.md': '',
      'sub/kept.md': '',
      'kept.md': '',
    });
    assert.deepEqual(await paths(root), ['.gitignore', '.ragledgerignore', 'kept.md', 'sub/.ragledgerignore', 'sub/kept.md']);
    assert.deepEqual(await paths(root, { respectGitignore: false }), ['.gitignore', '.ragledgerignore', 'git-ignored.md', 'kept.md', 'sub/.ragledgerignore', 'sub/kept.md']);
  });

  test('a .ragledgerignore can re-include what .gitignore excludes', async (t) => {
    const root = workspace(t, { '.gitignore': '*.txt\n', '.ragledgerignore': '!wanted.txt\n', 'wanted.txt': '', 'unwanted.txt': '' });
    assert.deepEqual(await paths(root), ['.gitignore', '.ragledgerignore', 'wanted.txt']);
  });
});

describe('FsWorkspaceSource.walk: rules and order', () => {
  test('default excludes apply at any depth: .git, node_modules, target, .rag-ledger, build outputs', async (t) => {
    const root = workspace(t, {
      '.git/HEAD': '',
      '.git/config.md': '',
      'node_modules/pkg/readme.md': '',
      'target/debug/out.rs': '',
      '.rag-ledger/events.journal': '',
      'dist/bundle.js': '',
      'pkg/node_modules/x/index.js': '',
      'crate/target/release/main.rs': '',
      'app.vsix': '',
      '.DS_Store': '',
      'src/main.rs': '',
      'targets.md': '',
      'my-node_modules.md': '',
    });
    assert.deepEqual(await paths(root), ['my-node_modules.md', 'src/main.rs', 'targets.md']);
  });

  test(
    'a .gitignore negation cannot bring back the default excludes, the exclude globs or the skipped store',
    async (t) => {
      const root = workspace(t, {
        '.gitignore': '*\n!*/\n!*.md\n',
        'a.md': '',
        '.git/HEAD.md': '',
        'node_modules/x/readme.md': '',
        'excluded/e.md': '',
        'store/events.md': '',
      });
      assert.deepEqual(await paths(root, { exclude: ['excluded/'] }, [join(root, 'store')]), ['a.md']);
    },
  );

  test('include globs keep only matching files; exclude globs drop files and folders', async (t) => {
    const root = workspace(t, {
      'README.md': '',
      'docs/guide.md': '',
      'docs/draft/wip.md': '',
      'docs/image.svg': '',
      'src/lib.rs': '',
      'src/gen/big.rs': '',
      'notes.txt': '',
    });
    assert.deepEqual(await paths(root, { include: ['*.md'] }), ['README.md', 'docs/draft/wip.md', 'docs/guide.md']);
    assert.deepEqual(await paths(root, { include: ['docs/'] }), ['docs/draft/wip.md', 'docs/guide.md', 'docs/image.svg']);
    assert.deepEqual(await paths(root, { include: ['*.md', '*.rs'], exclude: ['draft/', 'src/gen/'] }), ['README.md', 'docs/guide.md', 'src/lib.rs']);
    assert.deepEqual(await paths(root, { exclude: ['*.md', '*.txt'] }), ['docs/image.svg', 'src/gen/big.rs', 'src/lib.rs']);
    // An include does not re-include what an ignore file or exclude removed.
    write(root, '.ragledgerignore', 'README.md\n');
    assert.deepEqual(await paths(root, { include: ['*.md'] }), ['docs/draft/wip.md', 'docs/guide.md']);
  });

  test('skip paths are never descended into; paths outside the root are harmless', async (t) => {
    const root = workspace(t, { 'store/events.journal': '', 'nested/store/x.md': '', 'nested/keep.md': '', 'storefront.md': '', 'a.md': '' });
    const outside = tempDir(t);
    assert.deepEqual(await paths(root, {}, [join(root, 'store'), join(root, 'nested', 'store'), outside, root]), ['a.md', 'nested/keep.md', 'storefront.md']);
  });

  test('the order is stable and sorted by name in each folder, whatever the creation order', async (t) => {
    const names = ['b.md', 'a/z.md', 'a/b/c.md', 'B.md', 'a.md', 'a-b.md', 'é.md', '_.md', '10.md', '9.md', 'a/a.md'];
    const one = workspace(t, Object.fromEntries(names.map((n) => [n, ''])));
    const two = workspace(t, Object.fromEntries([...names].reverse().map((n) => [n, ''])));
    const expected = ['10.md', '9.md', 'B.md', '_.md', 'a/a.md', 'a/b/c.md', 'a/z.md', 'a-b.md', 'a.md', 'b.md', 'é.md'];
    assert.deepEqual(await paths(one), expected);
    assert.deepEqual(await paths(two), expected);
    assert.deepEqual(await paths(one), expected, 'the same on a second walk');
  });

  test('sizes are reported in bytes', async (t) => {
    const root = workspace(t, { 'a.md': 'héllo', 'empty.txt': '' });
    const files: [string, number][] = [];
    for await (const f of new FsWorkspaceSource(root).walk(RULES)) files.push([f.path, f.size]);
    assert.deepEqual(files, [
      ['a.md', 6],
      ['empty.txt', 0],
    ]);
  });

  test('an aborted signal stops the walk', async (t) => {
    const root = workspace(t, { 'a/1.md': '', 'b/2.md': '' });
    assert.deepEqual(await walk(new FsWorkspaceSource(root), {}, AbortSignal.abort()), []);
  });

  test('a root that does not exist, or is a file, is a FolderNotFoundError (never an empty walk)', async (t) => {
    await assert.rejects(paths(join(tempDir(t), 'missing')), (err: unknown) => err instanceof FolderNotFoundError && /does not exist/.test(err.message));
    const root = workspace(t, { 'a.md': '' });
    await assert.rejects(paths(join(root, 'a.md')), (err: unknown) => err instanceof FolderNotFoundError && /is a file/.test(err.message));
  });
});

describe('FsWorkspaceSource.walk: symbolic links', () => {
  test('a loop (dir/link -> ..) ends and yields each file once', async (t) => {
    const root = workspace(t, { 'a.md': '', 'dir/b.md': '', 'dir/sub/c.md': '' });
    symlinkSync('..', join(root, 'dir', 'link'));
    symlinkSync('../..', join(root, 'dir', 'sub', 'up'));
    symlinkSync('.', join(root, 'self'));
    const files = await paths(root);
    assert.deepEqual(files, ['a.md', 'dir/b.md', 'dir/sub/c.md']);
    // The links that close a loop are listed as skipped, with the reason.
    const skips = await skipped(root);
    assert.deepEqual(skips.map((s) => s.split(' ')[0]), ['dir/link', 'dir/sub/up', 'self']);
    for (const s of skips) assert.match(s, /link: the link leads to a folder already walked \(\.\): a loop or a second path to it/);
  });

  test('a dangling link is skipped; links to files and to folders are followed, unless they leave the root', async (t) => {
    const root = workspace(t, { 'real/doc.md': '', 'file.md': 'x' });
    const elsewhere = workspace(t, { 'shared/notes.md': '' });
    symlinkSync(join(root, 'nowhere.md'), join(root, 'dangling.md'));
    symlinkSync('missing-dir', join(root, 'dangling-dir'));
    symlinkSync('file.md', join(root, 'alias.md'));
    symlinkSync(join(elsewhere, 'shared'), join(root, 'linked'));
    assert.deepEqual(await paths(root), ['alias.md', 'file.md', 'real/doc.md']);
    assert.deepEqual(await skipped(root), [
      `dangling-dir link: the link's target (missing-dir) does not exist`,
      `dangling.md link: the link's target (${join(root, 'nowhere.md')}) does not exist`,
      `linked link: the link leads outside the workspace (to ${join(elsewhere, 'shared')}); links are followed only inside it`,
    ]);
  });
});

describe('FsWorkspaceSource.read and exists', () => {
  test('read returns the bytes; exists tells present from gone', async (t) => {
    const root = workspace(t, { 'dir/a.md': 'héllo 🦀' });
    const source = new FsWorkspaceSource(root);
    assert.equal(Buffer.from(await source.read('dir/a.md', LIMITS)).toString('utf8'), 'héllo 🦀');
    assert.equal(await source.exists('dir/a.md'), true);
    assert.equal(await source.exists('dir/nope.md'), false);
  });

  test('reading a deleted file throws SourceReadError "vanished"', async (t) => {
    const root = workspace(t, { 'gone.md': 'x', 'dir/inner.md': 'y' });
    const source = new FsWorkspaceSource(root);
    rmSync(join(root, 'gone.md'));
    await assert.rejects(source.read('gone.md', LIMITS), (err: unknown) => {
      assert.ok(err instanceof SourceReadError);
      assert.equal(err.kind, 'vanished');
      assert.equal(err.path, 'gone.md');
      assert.match(err.message, /^gone\.md: /);
      return true;
    });
    // A parent folder replaced by a file: ENOTDIR is also "vanished".
    rmSync(join(root, 'dir'), { recursive: true });
    writeFileSync(join(root, 'dir'), 'now a file');
    await assert.rejects(source.read('dir/inner.md', LIMITS), (err: unknown) => err instanceof SourceReadError && err.kind === 'vanished');
    assert.equal(await source.exists('gone.md'), false);
  });

  test('reading a path that cannot be read throws SourceReadError "unreadable"', async (t) => {
    const root = workspace(t, { 'locked.md': 'x' });
    const source = new FsWorkspaceSource(root);
    // chmod 000 does not stop root, and the tests may run as root: a directory where the
    // file was is just as unreadable.
    rmSync(join(root, 'locked.md'));
    mkdirSync(join(root, 'locked.md'));
    await assert.rejects(source.read('locked.md', LIMITS), (err: unknown) => {
      assert.ok(err instanceof SourceReadError);
      assert.equal(err.kind, 'unreadable');
      assert.match(err.message, /^locked\.md: it is not a regular file now \(a folder\)/);
      return true;
    });
  });
});

describe('FsWorkspaceSource.walk: links that leave the workspace', () => {
  test('a link to a folder or a file outside the root is not followed; links inside are', async (t) => {
    const outside = workspace(t, { 'private.txt': 'secret', '.env': 'AWS_SECRET=abc' });
    const root = workspace(t, { 'a.md': '', 'inner/b.md': '' });
    symlinkSync(outside, join(root, 'out'));
    symlinkSync(join(outside, '.env'), join(root, 'notes.md'));
    symlinkSync(join(root, 'inner'), join(root, 'alias'));
    symlinkSync(outside, join(root, 'elsewhere'));
    assert.deepEqual(await paths(root), ['a.md', 'alias/b.md']);
    // Listed as skipped with the reason, so the Documents view can show them (`out` is a default exclude: not listed).
    assert.deepEqual(await skipped(root), [
      `elsewhere link: the link leads outside the workspace (to ${outside}); links are followed only inside it`,
      `notes.md link: the link leads outside the workspace (to ${join(outside, '.env')}); links are followed only inside it`,
    ]);
  });
});

describe('FsWorkspaceSource: a link is judged by its target too', () => {
  test('a symbolic link named notes.txt to .env or a key file is listed as a secret, never read', async (t) => {
    const root = workspace(t, { 'real/.env': 'TOKEN=abc', 'keys/server.pem': 'x', 'a.md': '' });
    symlinkSync(join('real', '.env'), join(root, 'notes.txt'));
    symlinkSync(join(root, 'keys', 'server.pem'), join(root, 'cert-notes.md'));
    const skips = await skipped(root);
    assert.deepEqual(skips, [
      'cert-notes.md secret: the link leads to "server.pem" looks like a secret; secrets are never ingested unless explicitly allowed',
      'notes.txt secret: the link leads to ".env" looks like a secret; secrets are never ingested unless explicitly allowed',
    ]);
  });

  test('a hard link to a file named like a secret (even an ignored one) is refused when read', async (t) => {
    const root = workspace(t, { '.gitignore': '.env\n', '.env': 'TOKEN=abc', 'id_rsa': 'k', 'a.md': 'plain' });
    linkSync(join(root, '.env'), join(root, 'notes.txt'));
    linkSync(join(root, 'id_rsa'), join(root, 'backup.txt'));
    const source = new FsWorkspaceSource(root);
    const files = await walk(source);
    assert.deepEqual(files, ['.gitignore', 'a.md', 'backup.txt', 'id_rsa', 'notes.txt']);
    for (const [path, twin] of [['notes.txt', '.env'], ['backup.txt', 'id_rsa']] as const) {
      await assert.rejects(source.read(path, LIMITS), (err: unknown) => {
        assert.ok(err instanceof SourceReadError);
        assert.equal(err.kind, 'secret');
        assert.match(err.message, new RegExp(`^${path.replace('.', '\\.')}: it is a hard link to "${twin.replace('.', '\\.')}", which looks like a secret`));
        return true;
      });
    }
    assert.equal(Buffer.from(await source.read('a.md', LIMITS)).toString(), 'plain');
  });
});

describe('FsWorkspaceSource.read: what is read is what was checked', () => {
  /** Walks, then lets `swap` change the disk before anything is read (the seam between listing and reading). */
  async function walkThenSwap(root: string, swap: () => void): Promise<{ source: FsWorkspaceSource; files: SourceFile[] }> {
    const source = new FsWorkspaceSource(root);
    const files: SourceFile[] = [];
    for await (const f of source.walk(RULES)) files.push(f);
    swap();
    return { source, files };
  }

  test('a file swapped for a link to /etc/passwd after the walk is refused as a link', async (t) => {
    const root = workspace(t, { 'notes.md': 'mine' });
    const { source, files } = await walkThenSwap(root, () => {
      rmSync(join(root, 'notes.md'));
      symlinkSync('/etc/passwd', join(root, 'notes.md'));
    });
    assert.deepEqual(files.map((f) => f.path), ['notes.md']);
    await assert.rejects(source.read('notes.md', LIMITS), (err: unknown) => {
      assert.ok(err instanceof SourceReadError);
      assert.equal(err.kind, 'link');
      assert.match(err.message, /^notes\.md: it leads outside the workspace \(to \/etc\/passwd\) now/);
      return true;
    });
  });

  test('a file swapped for a FIFO after the walk is refused at once, never waited on', { timeout: 20_000 }, async (t) => {
    const root = workspace(t, { 'notes.md': 'mine' });
    const { source } = await walkThenSwap(root, () => {
      rmSync(join(root, 'notes.md'));
      execFileSync('mkfifo', [join(root, 'notes.md')]);
    });
    await assert.rejects(source.read('notes.md', LIMITS), (err: unknown) => {
      assert.ok(err instanceof SourceReadError);
      assert.equal(err.kind, 'unreadable');
      assert.match(err.message, /^notes\.md: it is not a regular file now \(a FIFO\)/);
      return true;
    });
  });

  test('a file that grew over the limit after the walk is refused as too large, with its size', async (t) => {
    const root = workspace(t, { 'notes.md': 'small' });
    const { source, files } = await walkThenSwap(root, () => appendFileSync(join(root, 'notes.md'), 'x'.repeat(100)));
    assert.equal(files[0]?.size, 5);
    await assert.rejects(source.read('notes.md', { maxBytes: 50 }), (err: unknown) => err instanceof SourceReadError && err.kind === 'too_large' && err.size === 105);
  });
});
