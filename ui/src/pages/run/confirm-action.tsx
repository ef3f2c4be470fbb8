// A button that asks before it acts: a modal dialog saying what will happen, with the server's
// error shown in the dialog when it refuses (the dialog stays open so the user can read it).
import { type ReactNode, useId, useRef, useState } from "react";
import { ErrorBox } from "../../components/error-box";

export function ConfirmAction(props: {
  /** The button's words, also the dialog's title. */
  label: string;
  /** What will happen, in a sentence. */
  message: ReactNode;
  /** Extra fields (a reason, options); read by `run` through the caller's own state. */
  children?: ReactNode;
  confirmLabel?: string;
  danger?: boolean;
  disabled?: boolean;
  /** Whether the action applies now. When it stops applying while the dialog is open (the run
   * moved on), the dialog stays, so the user sees what the server says. */
  available?: boolean;
  run: () => Promise<unknown>;
  onDone?: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const open = () => {
    setError(null);
    dialog.current?.showModal();
  };
  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      await props.run();
      dialog.current?.close();
      props.onDone?.();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      {props.available !== false && (
        <button type="button" className={props.danger ? "danger" : undefined} disabled={props.disabled} onClick={open}>
          {props.label}
        </button>
      )}
      <dialog ref={dialog} aria-labelledby={titleId} className="confirm-dialog">
        <h2 id={titleId}>{props.label}</h2>
        <div className="confirm-message">{props.message}</div>
        {props.children}
        <ErrorBox error={error} />
        <div className="row confirm-buttons">
          <button type="button" onClick={() => dialog.current?.close()} disabled={busy}>
            Cancel
          </button>
          <button type="button" className={props.danger ? "danger" : "primary"} onClick={confirm} disabled={busy}>
            {props.confirmLabel ?? props.label}
          </button>
        </div>
      </dialog>
    </>
  );
}
