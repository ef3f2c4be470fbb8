// Rename and delete, each confirmed in a dialog before anything is sent.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useRef, useState } from "react";
import { api, seg } from "../../api/client";
import { ErrorBox } from "../../components/error-box";
import { dagKey } from "./queries";

interface Props {
  fileName: string;
  onRenamed: (newFileName: string) => void;
  onDeleted: () => void;
}

export function SpecActions({ fileName, onRenamed, onDeleted }: Props) {
  const qc = useQueryClient();
  const renameDialog = useRef<HTMLDialogElement>(null);
  const deleteDialog = useRef<HTMLDialogElement>(null);
  const [newName, setNewName] = useState(fileName);
  const rename = useMutation({
    mutationFn: (to: string) => api.post(`/dags/${seg(fileName)}/rename`, { newFileName: to }),
    onSuccess: (_, to) => {
      renameDialog.current?.close();
      qc.removeQueries({ queryKey: dagKey(fileName) });
      onRenamed(to);
    },
  });
  const remove = useMutation({
    mutationFn: () => api.delete(`/dags/${seg(fileName)}`),
    onSuccess: () => {
      deleteDialog.current?.close();
      qc.removeQueries({ queryKey: dagKey(fileName) });
      onDeleted();
    },
  });
  const submitRename = (e: FormEvent) => {
    e.preventDefault();
    rename.mutate(newName.trim());
  };
  return (
    <>
      <button
        type="button"
        onClick={() => {
          setNewName(fileName);
          rename.reset();
          renameDialog.current?.showModal();
        }}
      >
        Rename…
      </button>
      <button
        type="button"
        className="danger"
        onClick={() => {
          remove.reset();
          deleteDialog.current?.showModal();
        }}
      >
        Delete…
      </button>
      <dialog ref={renameDialog} aria-label={`rename ${fileName}`}>
        <form onSubmit={submitRename} className="start-form">
          <h2>Rename {fileName}</h2>
          <label>
            New file name
            <input value={newName} onChange={(e) => setNewName(e.target.value)} pattern="[A-Za-z0-9_\-]+" required />
          </label>
          <p className="muted small">Letters, digits, _ and -. Its runs keep their history.</p>
          <ErrorBox error={rename.error} />
          <div className="row">
            <span className="spacer" />
            <button type="button" onClick={() => renameDialog.current?.close()}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={rename.isPending || newName.trim() === fileName}>
              Rename
            </button>
          </div>
        </form>
      </dialog>
      <dialog ref={deleteDialog} aria-label={`delete ${fileName}`}>
        <h2>Delete {fileName}?</h2>
        <p>The DAG and its schedule are removed; its queued runs are aborted. This cannot be undone.</p>
        <ErrorBox error={remove.error} />
        <div className="row">
          <span className="spacer" />
          <button type="button" onClick={() => deleteDialog.current?.close()}>
            Cancel
          </button>
          <button type="button" className="danger" disabled={remove.isPending} onClick={() => remove.mutate()}>
            Delete DAG
          </button>
        </div>
      </dialog>
    </>
  );
}
