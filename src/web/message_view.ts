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
  /** True when a body part was too large to show as HTML (src/web/render MAX_SANITISED_BYTES). */
  readonly tooLarge?: boolean;
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
      tooLarge: shown.tooLarge,
    };
  },
};

/** Renderings kept by a {@link RenderCache} by default. */
export const RENDER_CACHE_ENTRIES = 8;

/**
 * The last few renderings, least recently used dropped first, so that opening a message
 * (`/mail/read`, which needs the attachment list and the count of blocked images) and loading
 * its frame (`/mail/body`) sanitise it once. Keys name the account, the message and the
 * options; a message's content never changes, so an entry never goes stale.
 */
export class RenderCache {
  readonly #entries = new Map<string, Promise<RenderedMessage>>();
  readonly #max: number;

  constructor(readonly renderer: MessageRenderer, max = RENDER_CACHE_ENTRIES) {
    this.#max = max;
  }

  /** The rendering of message `messageId` of account `accountId`, read by `raw` if not cached. */
  render(
    key: { accountId: number; messageId: number },
    options: RenderOptions,
    raw: () => Promise<Uint8Array>,
  ): Promise<RenderedMessage> {
    const id = `${key.accountId}/${key.messageId}/${options.remoteImages ? 1 : 0}`;
    let entry = this.#entries.get(id);
    if (entry) {
      this.#entries.delete(id); // most recently used last
    } else {
      entry = raw().then((bytes) => this.renderer.render(bytes, options));
      // A failure is not remembered.
      entry.catch(() => {
        if (this.#entries.get(id) === entry) this.#entries.delete(id);
      });
    }
    this.#entries.set(id, entry);
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#max) break;
      this.#entries.delete(oldest);
    }
    return entry;
  }
}
