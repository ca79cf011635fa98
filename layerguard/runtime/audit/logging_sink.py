"""The default sink: one structured log line per dispatch."""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING

from layerguard.runtime.names import safe_text

if TYPE_CHECKING:
    from layerguard.runtime.audit.record import AuditRecord
    from layerguard.runtime.context import OperationContext

AUDIT_LOGGER = "layerguard.audit"
EXTRA_KEY = "layerguard_audit"


class LoggingAuditSink:
    """Logs each record at ``level`` with the whole record under ONE ``extra`` key.

    One key (default ``layerguard_audit``) rather than one extra per field: fields such as
    ``message``, ``module`` or ``created`` would collide with ``LogRecord`` attributes and make
    ``logging`` raise. JSON formatters find the record as a plain dict under that key.
    """

    __slots__ = ("_extra_key", "_level", "_logger", "enabled")

    def __init__(
        self,
        logger: logging.Logger | str = AUDIT_LOGGER,
        *,
        level: int = logging.INFO,
        extra_key: str = EXTRA_KEY,
    ) -> None:
        self._logger = logging.getLogger(logger) if isinstance(logger, str) else logger
        self._level = level
        self._extra_key = extra_key
        # enabled() is asked on every dispatch: a partial of the logger's own (cached) level
        # check costs one C call instead of two Python-level calls.
        self.enabled = partial(self._logger.isEnabledFor, level)

    @property
    def logger(self) -> logging.Logger:
        """The logger records go to."""
        return self._logger

    def emit(self, record: AuditRecord, ctx: OperationContext) -> None:
        """Log the record.

        Builds the ``LogRecord`` and hands it to the logger like ``Logger.log`` does, minus
        the caller lookup: ``findCaller`` walks the stack to report this very line, which
        tells nobody anything and is most of the cost of a log call.

        Texts from input that reach the message (the operation name, a handler's error code)
        go through ``safe_text``: a newline in an error code must not forge a log line. The
        other fields (tenant, correlation id, governance reason) are only in the ``extra``
        dict, which formatters serialise (JSON, or a dict repr) rather than print raw.
        """
        logger = self._logger
        logger.handle(
            logger.makeRecord(
                logger.name,
                self._level,
                __file__,
                0,
                "operation %s %s in %.3f ms%s",
                (
                    safe_text(record.operation),
                    str(record.outcome),
                    record.duration_ms,
                    f" ({safe_text(record.error_code)})" if record.error_code else "",
                ),
                None,
                "emit",
                {self._extra_key: record.as_dict()},
            )
        )
