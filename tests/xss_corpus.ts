/**
 * An XSS corpus for the webmail: HTML bodies that try to run script, navigate, submit, or
 * load something remote, each named. src/web/render/xss_test.ts sanitises every one and
 * asserts that nothing executable or remote is left; the web app's browser test delivers
 * them as mail (see {@link xssMessage}) and loads them in Chromium, asserting that no
 * dialog opens, no script runs and no request reaches its listener at `origin`.
 *
 * `origin` is where the remote resources point: a listener of the browser test, which
 * counts requests, so a payload that escapes the sanitiser is seen, not just assumed.
 *
 * @module
 */

/** One case of the corpus. */
export interface XssCase {
  /** A short unique name, for test output and file names. */
  name: string;
  /** The HTML body as a sender could write it. */
  html: string;
  /** How many remote resources a correct renderer blocks (and loads once remote is allowed). */
  remote: number;
}

/**
 * The corpus with remote resources at `origin` (scheme, host and port, no trailing slash;
 * e.g. `http://127.0.0.1:8999`). `host` is the same without the scheme, for protocol-relative
 * URLs.
 */
export function xssCorpus(origin: string): XssCase[] {
  const host = origin.replace(/^[a-z]+:/i, "");
  const js = "alert(document.domain)";
  return [
    // Script elements, in the ways parsers have been confused about them.
    { name: "script", html: `<p>hi</p><script>${js}</script>`, remote: 0 },
    { name: "script-src", html: `<script src="${origin}/x.js"></script>`, remote: 0 },
    { name: "script-upper", html: `<SCRIPT>${js}</SCRIPT>`, remote: 0 },
    { name: "script-attr-slash", html: `<script/xss src="${origin}/x.js"></script>`, remote: 0 },
    { name: "script-nested", html: `<scr<script>ipt>${js}</scr</script>ipt>`, remote: 0 },
    { name: "script-unclosed", html: `<script>${js}`, remote: 0 },
    { name: "script-in-comment-break", html: `<!--><script>${js}</script>-->`, remote: 0 },
    { name: "comment-bang", html: `<!--!><script>${js}</script>-->`, remote: 0 },
    { name: "comment-dashes", html: `<!-- --!><script>${js}</script>`, remote: 0 },
    { name: "cdata", html: `<![CDATA[<script>${js}</script>]]>`, remote: 0 },
    {
      name: "processing-instruction",
      html: `<?xml version="1.0"?><script>${js}</script>`,
      remote: 0,
    },
    { name: "unclosed-tag", html: `<img src=x onerror=${js}//`, remote: 0 },
    {
      name: "unclosed-attribute",
      html: `<a href="https://a.example/ onclick=${js} x="y">x</a>`,
      remote: 0,
    },
    // Event handlers in every spelling.
    { name: "img-onerror", html: `<img src=x onerror=${js}>`, remote: 0 },
    { name: "img-onerror-quoted", html: `<img src="x" onerror="${js}">`, remote: 0 },
    { name: "body-onload", html: `<body onload="${js}">text</body>`, remote: 0 },
    {
      name: "onmouseover",
      html: `<div onmouseover="${js}" style="width:100%;height:500px">hover</div>`,
      remote: 0,
    },
    {
      name: "onclick-a",
      html: `<a href="https://a.example/" onclick="${js}">click</a>`,
      remote: 0,
    },
    { name: "handler-mixed-case", html: `<img src=x OnErRoR=${js}>`, remote: 0 },
    { name: "handler-slash-separator", html: `<img/src=x/onerror=${js}>`, remote: 0 },
    { name: "handler-tab-newline", html: `<img src=x\tonerror\n=\n${js}>`, remote: 0 },
    { name: "handler-no-space", html: `<img src="x"onerror="${js}">`, remote: 0 },
    {
      name: "onfocus-autofocus",
      html: `<div tabindex=1 autofocus onfocus=${js}>f</div>`,
      remote: 0,
    },
    {
      name: "details-ontoggle",
      html: `<details open ontoggle=${js}><summary>s</summary></details>`,
      remote: 0,
    },
    { name: "marquee-onstart", html: `<marquee onstart=${js}>m</marquee>`, remote: 0 },
    { name: "video-onerror", html: `<video><source onerror="${js}"></video>`, remote: 0 },
    { name: "audio-src", html: `<audio src=x onerror=${js}></audio>`, remote: 0 },
    {
      name: "table-onpointer",
      html: `<table onpointerenter=${js}><tr><td>t</td></tr></table>`,
      remote: 0,
    },
    // javascript:, vbscript:, data: URLs, plain and disguised.
    { name: "a-javascript", html: `<a href="javascript:${js}">link</a>`, remote: 0 },
    { name: "a-javascript-upper", html: `<a href="JaVaScRiPt:${js}">link</a>`, remote: 0 },
    { name: "a-javascript-entity", html: `<a href="&#106;avascript:${js}">link</a>`, remote: 0 },
    {
      name: "a-javascript-hex-entity",
      html: `<a href="&#x6A;&#x61;vascript&#x3A;${js}">link</a>`,
      remote: 0,
    },
    {
      name: "a-javascript-no-semicolon",
      html: `<a href="&#0000106&#0000097vascript:${js}">link</a>`,
      remote: 0,
    },
    { name: "a-javascript-tab", html: `<a href="jav&#x09;ascript:${js}">link</a>`, remote: 0 },
    { name: "a-javascript-newline", html: `<a href="jav\nascript:${js}">link</a>`, remote: 0 },
    {
      name: "a-javascript-leading-space",
      html: `<a href=" &#14; javascript:${js}">link</a>`,
      remote: 0,
    },
    { name: "a-vbscript", html: `<a href="vbscript:msgbox(1)">link</a>`, remote: 0 },
    {
      name: "a-data-html",
      html: `<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">link</a>`,
      remote: 0,
    },
    { name: "img-javascript", html: `<img src="javascript:${js}">`, remote: 0 },
    {
      name: "img-data-svg",
      html: `<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`,
      remote: 0,
    },
    { name: "img-data-html", html: `<img src="data:text/html,<script>${js}</script>">`, remote: 0 },
    {
      name: "area-javascript",
      html: `<map name=m><area href="javascript:${js}" shape=rect coords=0,0,9,9></map>`,
      remote: 0,
    },
    {
      name: "form-action-javascript",
      html: `<form action="javascript:${js}"><input type=submit></form>`,
      remote: 0,
    },
    {
      name: "button-formaction",
      html: `<form><button formaction="javascript:${js}">go</button></form>`,
      remote: 0,
    },
    // SVG and MathML.
    { name: "svg-script", html: `<svg><script>${js}</script></svg>`, remote: 0 },
    { name: "svg-onload", html: `<svg onload=${js}>`, remote: 0 },
    {
      name: "svg-animate-href",
      html:
        `<svg><a><animate attributeName=href values=javascript:${js} /><text y=20>x</text></a></svg>`,
      remote: 0,
    },
    {
      name: "svg-use-data",
      html:
        `<svg><use href="data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='x' onerror='${js}'/></svg>#x"/></svg>`,
      remote: 0,
    },
    {
      name: "svg-foreignobject",
      html: `<svg><foreignObject><img src=x onerror=${js}></foreignObject></svg>`,
      remote: 0,
    },
    {
      name: "svg-style-break",
      html: `<svg><style><img src=x onerror=${js}></style></svg>`,
      remote: 0,
    },
    {
      name: "math-maction",
      html:
        `<math><maction actiontype="statusline" xlink:href="javascript:${js}">click<mtext>x</mtext></maction></math>`,
      remote: 0,
    },
    {
      name: "math-mglyph-style",
      html: `<math><mtext><table><mglyph><style><img src=x onerror=${js}>`,
      remote: 0,
    },
    { name: "math-href", html: `<math href="javascript:${js}"><mi>x</mi></math>`, remote: 0 },
    // CSS.
    { name: "css-expression", html: `<div style="width: expression(${js})">e</div>`, remote: 0 },
    {
      name: "css-expression-escaped",
      html: `<div style="width: ex\\pression(${js})">e</div>`,
      remote: 0,
    },
    {
      name: "css-url-javascript",
      html: `<div style="background-image: url(javascript:${js})">u</div>`,
      remote: 0,
    },
    {
      name: "css-behavior",
      html: `<div style="behavior: url(x.htc); -moz-binding: url(x.xml#x)">b</div>`,
      remote: 0,
    },
    {
      name: "css-import",
      html: `<style>@import url(${origin}/evil.css);</style><p>s</p>`,
      remote: 0,
    },
    {
      name: "style-element-script",
      html: `<style>*{x:expression(${js})}</style><p>s</p>`,
      remote: 0,
    },
    { name: "style-close-break", html: `<style></style><script>${js}</script></style>`, remote: 0 },
    {
      name: "css-position-overlay",
      html: `<div style="position:fixed;top:0;left:0;z-index:9999">fake</div>`,
      remote: 0,
    },
    // Navigation, base, forms, frames, embedded objects.
    {
      name: "meta-refresh",
      html: `<meta http-equiv="refresh" content="0;url=javascript:${js}">`,
      remote: 0,
    },
    {
      name: "meta-refresh-remote",
      html: `<meta http-equiv="refresh" content="0;url=${origin}/refresh">`,
      remote: 0,
    },
    { name: "base-href", html: `<base href="javascript:${js}//"><a href="/x">x</a>`, remote: 0 },
    { name: "base-remote", html: `<base href="${origin}/"><img src="p.gif">`, remote: 0 },
    {
      name: "link-stylesheet",
      html: `<link rel=stylesheet href="${origin}/x.css"><p>l</p>`,
      remote: 0,
    },
    {
      name: "link-prefetch",
      html: `<link rel=prefetch href="${origin}/prefetch"><p>l</p>`,
      remote: 0,
    },
    {
      name: "form-input",
      html:
        `<form action="${origin}/steal" method=post><input name=password type=password><input type=submit value=Login></form>`,
      remote: 0,
    },
    { name: "input-autofocus", html: `<input autofocus onfocus=${js}>`, remote: 0 },
    {
      name: "textarea-break",
      html: `<textarea></textarea><script>${js}</script></textarea>`,
      remote: 0,
    },
    {
      name: "select-break",
      html: `<select><option><img src=x onerror=${js}></option></select>`,
      remote: 0,
    },
    { name: "iframe-src", html: `<iframe src="javascript:${js}"></iframe>`, remote: 0 },
    { name: "iframe-srcdoc", html: `<iframe srcdoc="<script>${js}</script>"></iframe>`, remote: 0 },
    {
      name: "iframe-nested",
      html: `<iframe><iframe src="${origin}/frame"></iframe></iframe>`,
      remote: 0,
    },
    {
      name: "frameset",
      html: `<frameset onload=${js}><frame src="${origin}/frame"></frameset>`,
      remote: 0,
    },
    { name: "object-data", html: `<object data="javascript:${js}"></object>`, remote: 0 },
    {
      name: "object-remote",
      html: `<object data="${origin}/x.swf" type="application/x-shockwave-flash"></object>`,
      remote: 0,
    },
    { name: "embed-src", html: `<embed src="data:text/html,<script>${js}</script>">`, remote: 0 },
    { name: "applet", html: `<applet code="X.class" codebase="${origin}/"></applet>`, remote: 0 },
    // Parser-confusion tricks.
    {
      name: "noscript-title",
      html: `<noscript><p title="</noscript><img src=x onerror=${js}>"></noscript>`,
      remote: 0,
    },
    { name: "template-content", html: `<template><img src=x onerror=${js}></template>`, remote: 0 },
    {
      name: "noembed-break",
      html: `<noembed><img title="</noembed><img src=x onerror=${js}>"></noembed>`,
      remote: 0,
    },
    {
      name: "xmp-break",
      html: `<xmp><img title="</xmp><img src=x onerror=${js}>"></xmp>`,
      remote: 0,
    },
    { name: "plaintext", html: `<plaintext><script>${js}</script>`, remote: 0 },
    {
      name: "title-break",
      html: `<title><img title="</title><img src=x onerror=${js}>"></title>`,
      remote: 0,
    },
    { name: "attr-quote-break", html: `<img alt="x" title='"><script>${js}</script>'>`, remote: 0 },
    {
      name: "null-byte",
      html: `<scr\u0000ipt>${js}</scr\u0000ipt><img src=x o\u0000nerror=${js}>`,
      remote: 0,
    },
    { name: "entity-in-tag", html: `&lt;script&gt;${js}&lt;/script&gt;`, remote: 0 },
    {
      name: "dom-clobber",
      html:
        `<form id=location><img name=cookie src=x><a id=defaultView href="javascript:${js}">x</a></form>`,
      remote: 0,
    },
    // Remote content: blocked until allowed, counted.
    {
      name: "remote-img-http",
      html: `<p>logo</p><img src="${origin}/http.gif" alt="logo">`,
      remote: 1,
    },
    {
      name: "remote-img-https",
      html: `<img src="${origin.replace(/^http:/, "https:")}/https.gif">`,
      remote: 1,
    },
    { name: "remote-img-protocol-relative", html: `<img src="${host}/relative.gif">`, remote: 1 },
    {
      name: "remote-img-srcset",
      html: `<img srcset="${origin}/1x.gif 1x, ${origin}/2x.gif 2x">`,
      remote: 1,
    },
    {
      name: "remote-background-attr",
      html: `<table background="${origin}/bg.gif"><tr><td>t</td></tr></table>`,
      remote: 1,
    },
    {
      name: "remote-td-background",
      html: `<table><tr><td background="${origin}/td.gif">t</td></tr></table>`,
      remote: 1,
    },
    {
      name: "remote-css-background",
      html: `<div style="background: url(${origin}/css.gif)">c</div>`,
      remote: 1,
    },
    {
      name: "remote-css-background-image",
      html: `<div style="color:red; background-image: url('${origin}/css2.gif')">c</div>`,
      remote: 1,
    },
    {
      name: "remote-tracking-pixel",
      html:
        `<p>Hello</p><img src="${origin}/pixel.gif?u=1" width="1" height="1" style="display:none">`,
      remote: 1,
    },
    {
      name: "remote-video-poster",
      html: `<video poster="${origin}/poster.gif"></video>`,
      remote: 0,
    },
    { name: "remote-input-image", html: `<input type=image src="${origin}/input.gif">`, remote: 0 },
    {
      name: "remote-a-ping",
      html: `<a href="https://a.example/" ping="${origin}/ping">p</a>`,
      remote: 0,
    },
  ];
}

/** The corpus with remote resources at an address nothing listens on (port 9, discard). */
export const XSS_CORPUS: XssCase[] = xssCorpus("http://127.0.0.1:9");

/**
 * One case as a complete RFC 5322 message with a text/html body (UTF-8, base64 in lines of
 * 76 characters, RFC 2045 §6.8), for delivery over SMTP in browser tests.
 */
export function xssMessage(entry: XssCase, from: string, to: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(entry.html)) binary += String.fromCharCode(byte);
  const body = btoa(binary).replace(/.{76}/g, "$&\r\n");
  return [
    `From: ${from}`,
    `To: ${to}`,
    `Subject: XSS corpus: ${entry.name}`,
    `Message-ID: <xss-${entry.name}@fumi.test>`,
    "Date: Sat, 28 Nov 2026 08:00:00 +0000",
    "MIME-Version: 1.0",
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: base64",
    "",
    body,
    "",
  ].join("\r\n");
}
