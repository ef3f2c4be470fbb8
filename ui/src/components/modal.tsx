import { type ReactNode, useEffect, useId, useRef } from "react";
import "./modal.css";

/**
 * A modal dialog on the native <dialog>: focus moves into it and stays there, Escape closes it,
 * and it is named by its title for screen readers and tests.
 */
export function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog
      ref={ref}
      className="modal"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        onClose();
      }}
    >
      <h2 id={titleId} style={{ marginTop: 0 }}>
        {title}
      </h2>
      {children}
    </dialog>
  );
}
