"""`conclint server`: a language server (LSP over stdio, with pygls) for editors.

On open, change and save, the buffer is analysed as the file it is, in its project: the other
modules come from disk (and from the cache when unchanged), the buffer's text from the editor.
Each finding is a diagnostic with its related places (the thread start, the earlier read, the
blocking call down a helper chain); a CCL201 finding offers its fix as a quick fix, imports
tidied as `conclint check --fix` tidies them.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Dict, List, Optional

from conclint import __version__
from conclint.adapters.buffers import encode_buffer
from conclint.adapters.report import ERROR, severity
from conclint.engine.cache import default_cache_dir
from conclint.engine.config_files import ConfigResolver
from conclint.engine.findings import Finding, Span
from conclint.engine.fixes import fixed_text
from conclint.engine.run import run
from conclint.engine.settings import ConfigError
from conclint.engine.source import python_lines, read_regular_file
from conclint.rules import RULES_BY_CODE

SOURCE = "conclint"


def check_buffer(path: str, text: str) -> List[Finding]:
    """The findings in ``path`` when it holds ``text``, analysed in its project with its closest configuration."""
    resolver = ConfigResolver(RULES_BY_CODE)
    settings = resolver.settings_for(path)
    cache_dir = settings.cache_dir or default_cache_dir(settings.root)
    result = run([path], settings, 1, cache_dir, resolver.project_root_for(path), {path: encode_buffer(text)})
    return [f for f in result.findings if f.path == path]


def serve() -> int:
    try:
        from lsprotocol import types
        from pygls import uris
        from pygls.lsp.server import LanguageServer
    except ImportError:
        print("conclint: error: `conclint server` needs pygls: pip install 'conclint[lsp]'", file=sys.stderr)
        return 2

    server = LanguageServer("conclint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Full)
    lock = asyncio.Lock()
    findings_by_uri: Dict[str, List[Finding]] = {}

    def lines_of(path: str, document) -> Optional[List[str]]:
        if document is not None:
            return document.lines
        try:
            text = read_regular_file(path).decode("utf-8", "replace")
            return [line + "\n" for line in python_lines(text)]
        except OSError:
            return None

    def to_range(span: Span, document=None, path: str = "") -> types.Range:
        end_row, end_col = (span.end_row, span.end_col) if span.end_row else (span.row, span.col)
        if (end_row, end_col) == (span.row, span.col):
            end_col += 1  # a point: mark one character
        server_range = types.Range(
            types.Position(max(span.row - 1, 0), max(span.col - 1, 0)),
            types.Position(max(end_row - 1, 0), max(end_col - 1, 0)),
        )
        lines = lines_of(path, document)
        codec = (document.position_codec if document is not None else None) or server.workspace.position_codec
        return codec.range_to_client_units(lines, server_range) if lines else server_range

    def diagnostic(finding: Finding, document) -> types.Diagnostic:
        related = []
        for place in finding.related:
            other = document if place.path == finding.path else None
            location = types.Location(uris.from_fs_path(place.path), to_range(place.span, other, place.path))
            related.append(types.DiagnosticRelatedInformation(location, place.message))
        level = types.DiagnosticSeverity.Error if severity(finding.code) == ERROR else types.DiagnosticSeverity.Warning
        return types.Diagnostic(
            range=to_range(finding.span, document, finding.path),
            message=finding.message,
            severity=level,
            code=finding.code,
            code_description=types.CodeDescription(href=RULES_BY_CODE[finding.code].url()),
            source=SOURCE,
            related_information=related or None,
        )

    async def lint(uri: str) -> None:
        async with lock:  # one analysis at a time; the cache makes the next one cheap
            document = server.workspace.get_text_document(uri)
            path, version, text = document.path, document.version, document.source
            try:
                found = await asyncio.to_thread(check_buffer, os.path.abspath(path), text)
            except ConfigError as exc:
                server.window_show_message(types.ShowMessageParams(types.MessageType.Error, f"conclint: {exc}"))
                return
        if server.workspace.get_text_document(uri).version != version:
            return  # edited meanwhile: the lint of the newer text publishes
        findings_by_uri[uri] = found
        diagnostics = [diagnostic(f, document) for f in found]
        server.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, version=version, diagnostics=diagnostics)
        )

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls, params: types.DidOpenTextDocumentParams) -> None:
        await lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    async def did_change(ls, params: types.DidChangeTextDocumentParams) -> None:
        await lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls, params: types.DidSaveTextDocumentParams) -> None:
        await lint(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls, params: types.DidCloseTextDocumentParams) -> None:
        findings_by_uri.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[])
        )

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix])
    )
    def code_action(ls, params: types.CodeActionParams) -> List[types.CodeAction]:
        uri = params.text_document.uri
        document = ls.workspace.get_text_document(uri)
        wanted = {(d.code, d.range.start.line, d.range.start.character) for d in params.context.diagnostics}
        actions = []
        for finding in findings_by_uri.get(uri, ()):
            if finding.fix is None or finding.fix.applicability != "safe":
                continue
            start = to_range(finding.span, document, finding.path).start
            if wanted and (finding.code, start.line, start.character) not in wanted:
                continue
            actions.append(_quick_fix(types, document, finding, diagnostic(finding, document)))
        return actions

    server.start_io()
    return 0


def _quick_fix(types, document, finding: Finding, diagnostic) -> object:
    """The finding's fix as one edit of the whole buffer: the fix itself plus the import tidying."""
    text = document.source
    after = fixed_text(text, finding.fix.edits)
    lines = document.lines
    end = types.Position(len(lines), 0)
    edit = types.TextEdit(types.Range(types.Position(0, 0), end), after)
    return types.CodeAction(
        title=f"conclint: {finding.fix.message}",
        kind=types.CodeActionKind.QuickFix,
        diagnostics=[diagnostic],
        is_preferred=True,
        edit=types.WorkspaceEdit(changes={document.uri: [edit]}),
    )
