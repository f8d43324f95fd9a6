// Publishes the platform-specific packages to the Visual Studio Marketplace.
//
//   VSCE_PAT=<token> node scripts/publish.mjs [--target T]... | --all
//
// Builds each target's .vsix with scripts/package.mjs, then `vsce publish --packagePath` for each.
// The token is a Personal Access Token of the publisher in package.json ("publisher"), with the
// Marketplace "Manage" scope; vsce reads it from VSCE_PAT. Nothing is published without it.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (!process.env.VSCE_PAT) {
  console.error('publish: set VSCE_PAT to a Marketplace token of the publisher "' + pkg.publisher + '" (see CONTRIBUTING.md, "Publishing")');
  process.exit(2);
}
const args = process.argv.slice(2);
const all = args.includes('--all');
const targets = all ? ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64', 'win32-arm64'] : args.flatMap((a, i) => (args[i - 1] === '--target' ? [a] : []));
if (targets.length === 0) {
  console.error('publish: give --target T (repeatable) or --all');
  process.exit(2);
}
execFileSync(process.execPath, [join(root, 'scripts', 'package.mjs'), ...targets.flatMap((t) => ['--target', t])], { stdio: 'inherit' });
for (const t of targets) {
  const vsix = join(root, `${pkg.name}-${pkg.version}-${t}.vsix`);
  console.log(`publishing ${vsix}`);
  execFileSync(join(root, 'node_modules', '.bin', 'vsce'), ['publish', '--packagePath', vsix], { stdio: 'inherit', env: process.env });
}
