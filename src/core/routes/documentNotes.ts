// Notes on what routes.yaml says but nothing reads: keys the compiled routes no longer show were written, so
// these are found on the document itself (routeNotes in notes.ts works on the compiled routes).
import type { RoutesDoc } from "./document";
import type { PathSegment } from "./positions";

/** A note placed at a key of the document. */
export interface DocumentNote {
  path: PathSegment[];
  message: string;
}

export function documentNotes(doc: RoutesDoc): DocumentNote[] {
  const notes: DocumentNote[] = [];
  // The top-level jenkins is the last fallback (compile.ts jenkinsTargetDocFor): behind defaults.jenkins, none.
  if (doc.jenkins !== undefined && doc.defaults?.jenkins !== undefined) {
    notes.push({
      path: ["jenkins"],
      message:
        "jenkins: never used: every action without a jenkins block of its own uses defaults.jenkins instead " +
        "(the more specific block is taken whole); remove this one, or move what it says into defaults.jenkins",
    });
  }
  return notes;
}
