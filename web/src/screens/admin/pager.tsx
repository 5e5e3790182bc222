import { useCallback, useState } from 'react';
import { Button } from '../../components/fields.tsx';

/**
 * Keyset pagination: the server gives the next page's cursor; going back pops the cursors of the
 * pages already seen.
 */
export function useCursorStack() {
  const [stack, setStack] = useState<(string | null)[]>([null]);
  const reset = useCallback(() => setStack([null]), []);
  return {
    cursor: stack[stack.length - 1] ?? null,
    page: stack.length,
    next: (cursor: string) => setStack((s) => [...s, cursor]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    reset,
  };
}

export function Pager({
  label,
  page,
  hasNext,
  busy,
  onPrevious,
  onNext,
}: {
  label: string;
  page: number;
  hasNext: boolean;
  busy: boolean;
  onPrevious(): void;
  onNext(): void;
}) {
  if (page === 1 && !hasNext) return null;
  return (
    <nav className="adm-pager" aria-label={label}>
      <Button type="button" kind="secondary" onClick={onPrevious} disabled={page === 1 || busy}>
        Previous page
      </Button>
      <span className="adm-muted" aria-live="polite">
        Page {page}
      </span>
      <Button type="button" kind="secondary" onClick={onNext} disabled={!hasNext || busy}>
        Next page
      </Button>
    </nav>
  );
}
