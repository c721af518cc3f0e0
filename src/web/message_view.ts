/**
 * What the reading pane shows of a message: the seam between the webmail's routes and the
 * renderer. {@link sanitisedRenderer}, the one wired in, is src/web/render/'s `renderMessage`
 * (allow-list sanitiser, remote content blocked unless allowed) with the HTML wrapped in that
 * module's frame document, to be served only by the message body route, in a sandboxed frame.
 * Tests may pass another renderer.
 *
 * @module
 */

import { frameDocument, renderMessage } from "./render/mod.ts";

/** An attachment, as listed under a message. */
export interface AttachmentInfo {
  /** The IMAP section number of the part ("2", "1.3"), for its download. */
  readonly partId: string;
  /** Display-safe file name; "" when it has none. */
  readonly filename: string;
  /** `type/subtype`, lower case. */
  readonly contentType: string;
  /** Decoded size in octets. */
  readonly size: number;
}

/** The reading pane's content. */
export interface RenderedMessage {
  /** A sanitised HTML document for the sandboxed frame; null when there is none to show. */
  readonly html: string | null;
  /** The plain text (not escaped: the page escapes it); null when the message has none. */
  readonly text: string | null;
  readonly attachments: readonly AttachmentInfo[];
  /** Remote resources kept from loading (0 when allowed). */
  readonly remoteBlocked: number;
}

/** Options of one rendering. */
export interface RenderOptions {
  /** Whether remote images may load (off unless the user allowed them). */
  readonly remoteImages: boolean;
}

/** Turns a message's bytes into what the reading pane shows. */
export interface MessageRenderer {
  render(raw: Uint8Array, options: RenderOptions): RenderedMessage | Promise<RenderedMessage>;
}

/** src/web/render's sanitiser, its HTML as a whole frame document. */
export const sanitisedRenderer: MessageRenderer = {
  render(raw, { remoteImages }) {
    const shown = renderMessage(raw, { allowRemote: remoteImages });
    return {
      html: shown.html === null ? null : frameDocument(shown.html, remoteImages),
      text: shown.text,
      attachments: shown.attachments.map((a) => ({
        partId: a.partId,
        filename: a.filename ?? "",
        contentType: a.contentType,
        size: a.size,
      })),
      remoteBlocked: shown.remoteBlocked,
    };
  },
};
