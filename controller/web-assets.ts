/**
 * Where the dashboard's files are: `web/` in the package (the page, its style, its ES modules) and
 * ECharts from node_modules. Used by the server that serves them and by `harrow report`, which
 * inlines them into one file.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory holding package.json: this file runs from `dist/controller/` in a build. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`cannot find the harrow package root above ${fileURLToPath(import.meta.url)}`);
}

/** The dashboard's ES modules: `app.js` and everything under `web/js/`, as URL paths (`js/dom.js`) and files. */
export function dashboardModules(root = packageRoot()): Array<{ url: string; path: string }> {
  const web = join(root, 'web');
  const out = [{ url: 'app.js', path: join(web, 'app.js') }];
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.js')) out.push({ url: relative(web, path).split(sep).join('/'), path });
    }
  };
  walk(join(web, 'js'));
  return out;
}

export function resolveEcharts(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');
  } catch {
    return undefined;
  }
}
