import { useEffect, useState } from "react";

/**
 * A text filter that writes to the URL a moment after typing stops, so a list is not fetched
 * once per key; the URL stays the source of truth (back, reload and shared links keep it).
 */
export function FilterInput(props: { label: string; value?: string; onChange: (v: string | undefined) => void }) {
  const [text, setText] = useState(props.value ?? "");
  const { value, onChange } = props;
  useEffect(() => setText(value ?? ""), [value]);
  useEffect(() => {
    if (text === (value ?? "")) return;
    const t = setTimeout(() => onChange(text.trim() || undefined), 250);
    return () => clearTimeout(t);
  }, [text, value, onChange]);
  return (
    <label>
      {props.label}
      <input type="search" value={text} onChange={(e) => setText(e.target.value)} />
    </label>
  );
}
