// Server-side pages: eta templates in views/, every value escaped (autoEscape), compiled once and
// cached. Handlers pass data; they never build HTML by string concatenation.
import { Eta } from 'eta';

export interface Renderer {
  render(view: string, data: Record<string, unknown>): string;
}

export function createRenderer(viewsDir: string): Renderer {
  const eta = new Eta({ views: viewsDir, autoEscape: true, cache: true, autoTrim: [false, 'nl'] });
  return {
    render(view, data) {
      return eta.render(view, data);
    },
  };
}
