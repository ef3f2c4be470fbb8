import { useMutation } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { ErrorBox } from "./error-box";
import { Modal } from "./modal";

/**
 * A button for an action that cannot be undone: it asks first, runs `action` on confirmation, and
 * shows the server's error in the dialog if it fails.
 */
export function ConfirmButton(props: {
  /** The button's text; its accessible name is `label` when given. */
  children: ReactNode;
  label?: string;
  title: string;
  question: ReactNode;
  confirm: string;
  action: () => Promise<unknown>;
  onDone?: () => void;
  danger?: boolean;
  disabled?: boolean;
}) {
  const [open, setOpen] = useState(false);
  const run = useMutation({
    mutationFn: props.action,
    onSuccess: () => {
      setOpen(false);
      props.onDone?.();
    },
  });
  return (
    <>
      <button
        type="button"
        className={props.danger ? "danger" : undefined}
        aria-label={props.label}
        disabled={props.disabled}
        onClick={() => {
          run.reset();
          setOpen(true);
        }}
      >
        {props.children}
      </button>
      {open && (
        <Modal title={props.title} onClose={() => setOpen(false)}>
          <div>{props.question}</div>
          <ErrorBox error={run.error} />
          <div className="row" style={{ justifyContent: "flex-end", marginTop: "1rem" }}>
            <button type="button" onClick={() => setOpen(false)}>
              Cancel
            </button>
            <button
              type="button"
              className={props.danger ? "danger" : "primary"}
              disabled={run.isPending}
              onClick={() => run.mutate()}
            >
              {props.confirm}
            </button>
          </div>
        </Modal>
      )}
    </>
  );
}
