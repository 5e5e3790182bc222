import { useEffect, useId, useRef, useState, type CSSProperties, type KeyboardEvent } from 'react';

export type MenuItem = { label: string; onSelect(): void; danger?: boolean };

/**
 * The 3-dot menu of a verification method, where the user disables it.
 * A small WAI-ARIA menu button: Enter, Space or ArrowDown opens it with focus on the first item,
 * arrow keys, Home and End move, Escape closes it and returns focus to the button, Tab or a click
 * outside closes it. The items are real buttons.
 */
export function MethodMenu({ label, items }: { label: string; items: MenuItem[] }) {
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const wrapper = useRef<HTMLDivElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const itemRefs = useRef<(HTMLButtonElement | null)[]>([]);
  const menuId = useId();

  useEffect(() => {
    if (open) itemRefs.current[active]?.focus();
  }, [open, active]);

  useEffect(() => {
    if (!open) return;
    const onPointerDown = (event: PointerEvent) => {
      if (!wrapper.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener('pointerdown', onPointerDown);
    return () => document.removeEventListener('pointerdown', onPointerDown);
  }, [open]);

  function openAt(index: number) {
    setActive(index);
    setOpen(true);
  }

  function close() {
    setOpen(false);
    trigger.current?.focus();
  }

  function onTriggerKeyDown(event: KeyboardEvent) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      openAt(event.key === 'ArrowUp' ? items.length - 1 : 0);
    }
  }

  function onMenuKeyDown(event: KeyboardEvent) {
    const last = items.length - 1;
    const moves: Record<string, number> = {
      ArrowDown: active === last ? 0 : active + 1,
      ArrowUp: active === 0 ? last : active - 1,
      Home: 0,
      End: last,
    };
    if (event.key in moves) {
      event.preventDefault();
      setActive(moves[event.key]!);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      event.stopPropagation();
      close();
    } else if (event.key === 'Tab') {
      setOpen(false);
    }
  }

  return (
    <div ref={wrapper} style={{ position: 'relative' }}>
      <button
        ref={trigger}
        type="button"
        className="button button-secondary"
        style={triggerStyle}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label={`More actions for ${label}`}
        onClick={() => (open ? setOpen(false) : openAt(0))}
        onKeyDown={onTriggerKeyDown}
      >
        <svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true" focusable="false">
          <circle cx="10" cy="4" r="1.8" fill="currentColor" />
          <circle cx="10" cy="10" r="1.8" fill="currentColor" />
          <circle cx="10" cy="16" r="1.8" fill="currentColor" />
        </svg>
      </button>
      {open && (
        <div
          id={menuId}
          role="menu"
          aria-label={`${label} actions`}
          style={menuStyle}
          onKeyDown={onMenuKeyDown}
        >
          {items.map((item, index) => (
            <button
              key={item.label}
              ref={(element) => {
                itemRefs.current[index] = element;
              }}
              type="button"
              role="menuitem"
              tabIndex={index === active ? 0 : -1}
              style={itemStyle(index === active, item.danger ?? false)}
              onMouseEnter={() => setActive(index)}
              onClick={() => {
                close();
                item.onSelect();
              }}
            >
              {item.label}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

const triggerStyle: CSSProperties = {
  width: '2.75rem',
  padding: 0,
  display: 'inline-grid',
  placeItems: 'center',
};

const menuStyle: CSSProperties = {
  position: 'absolute',
  right: 0,
  top: 'calc(100% + 0.25rem)',
  zIndex: 5,
  minWidth: '11rem',
  padding: '0.25rem',
  display: 'flex',
  flexDirection: 'column',
  background: 'var(--surface)',
  border: '1px solid var(--border)',
  borderRadius: 'var(--radius)',
  boxShadow: '0 10px 30px #1b223029',
};

function itemStyle(active: boolean, danger: boolean): CSSProperties {
  return {
    font: 'inherit',
    fontWeight: 600,
    textAlign: 'left',
    minHeight: '2.75rem',
    padding: '0.5rem 0.75rem',
    border: 'none',
    borderRadius: '6px',
    cursor: 'pointer',
    outlineOffset: '-3px',
    color: danger ? (active ? '#7c1d17' : 'var(--danger)') : 'var(--text)',
    background: active ? (danger ? '#fdeceb' : '#e4ebff') : 'transparent',
  };
}
