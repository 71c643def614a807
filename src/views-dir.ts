// Where the page templates live, relative to this file in src/ and in dist/ alike.
import { fileURLToPath } from 'node:url';

export const VIEWS_DIR = fileURLToPath(new URL('../views', import.meta.url));
