"""The rule registry: every rule conclint knows, by code."""

from __future__ import annotations

from typing import Dict, Tuple, Type

from conclint.rules.base import Rule
from conclint.rules.blocking import (
    BlockingCallViaHelper,
    BlockingConsoleInput,
    BlockingDatabaseCall,
    BlockingFileIO,
    BlockingNetworkCall,
    BlockingSleepInAsync,
    BlockingSubprocess,
    BlockingWait,
    ConfiguredBlockingCall,
)
from conclint.rules.fork_hazards import (
    ForkUnsafeLibraryState,
    ForkWithThreads,
    GlobalWriteInChildProcess,
    PerWorkerState,
    ResourceInheritedAcrossFork,
)
from conclint.rules.input_errors import SyntaxErrorRule, UnreadableFileRule
from conclint.rules.loop_races import CheckThenActAcrossAwait, StaleReadAcrossAwait, StaleReadAcrossCallbacks
from conclint.rules.spawn import ParentStateLostAtSpawn
from conclint.rules.thread_races import CheckThenAct, InconsistentLocking, UnsynchronizedReadModifyWrite

ALL_RULES: Tuple[Type[Rule], ...] = (
    SyntaxErrorRule,
    UnreadableFileRule,
    UnsynchronizedReadModifyWrite,
    CheckThenAct,
    InconsistentLocking,
    StaleReadAcrossAwait,
    CheckThenActAcrossAwait,
    StaleReadAcrossCallbacks,
    BlockingSleepInAsync,
    BlockingNetworkCall,
    BlockingSubprocess,
    BlockingFileIO,
    BlockingWait,
    BlockingDatabaseCall,
    BlockingConsoleInput,
    ConfiguredBlockingCall,
    BlockingCallViaHelper,
    GlobalWriteInChildProcess,
    ForkWithThreads,
    PerWorkerState,
    ResourceInheritedAcrossFork,
    ForkUnsafeLibraryState,
    ParentStateLostAtSpawn,
)

RULES_BY_CODE: Dict[str, Type[Rule]] = {rule.code: rule for rule in ALL_RULES}
