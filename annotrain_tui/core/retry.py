"""Retries with backoff for both backends.

Reads and idempotent writes are retried on Transient/RateLimited errors. Creates are never
repeated blindly: before retrying a create whose answer may have been lost, we look for what it
would have made (something matching it that did not exist before the first attempt).
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import Any

from annotrain_tui.core.backends.base import CREATE_METHODS, PROTOCOL_METHODS, Backend, BackendLayer
from annotrain_tui.core.errors import RateLimited, Transient

log = logging.getLogger("annotrain.retry")


class RetryPolicy:
    def __init__(self, attempts: int = 5, base_delay: float = 0.5, max_delay: float = 30.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.attempts = max(1, attempts)
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.sleep = sleep

    def delay(self, attempt: int, err: Exception | None) -> float:
        if isinstance(err, RateLimited) and err.retry_after:
            return min(err.retry_after, self.max_delay)
        backoff = min(self.max_delay, self.base_delay * (2 ** attempt))
        return backoff * (0.5 + random.random() / 2)  # jitter


def call_with_retry(fn: Callable[[], Any], policy: RetryPolicy, *, what: str,
                    recover: Callable[[], Any] | None = None) -> Any:
    """Run ``fn``; on Transient errors back off and retry.

    ``recover``, for creates, is asked after a failure that may have acted: it returns what the
    lost call made (then that is the answer) or None (then the create is tried again).
    """
    last: Transient | None = None
    for attempt in range(policy.attempts):
        if last is not None and last.attempts is not None and attempt >= last.attempts:
            break
        if attempt:
            d = policy.delay(attempt - 1, last) if last else 0
            log.info("retrying %s in %.2fs (attempt %d/%d): %s", what, d, attempt + 1, policy.attempts, last)
            policy.sleep(d)
            if recover is not None and last is not None and last.acted is not False:
                try:
                    found = recover()
                except Transient as err:  # the lookup itself failed: try the whole step again
                    last = err
                    continue
                if found is not None:
                    log.info("%s had acted before its answer was lost; using what it made", what)
                    return found
        try:
            return fn()
        except Transient as err:
            last = err
    assert last is not None
    tried = min(policy.attempts, last.attempts or policy.attempts)
    hint = ("the service kept rate limiting: wait a minute and try again" if isinstance(last, RateLimited)
            else last.hint or "the service may be down; try again later")
    raise Transient(f"{what.replace('_', ' ')} still failing after {tried} attempts: {last.message}",
                    hint=hint, acted=last.acted, see=last.see)


class RetryingBackend(BackendLayer):
    """Wraps a backend: every protocol call goes through ``call_with_retry``."""

    def __init__(self, inner: Backend, policy: RetryPolicy | None = None) -> None:
        super().__init__(inner)
        self.policy = policy or RetryPolicy()

    def __getattr__(self, attr: str) -> Any:
        target = getattr(self.inner, attr)
        if attr not in PROTOCOL_METHODS or attr in CREATE_METHODS:
            return target

        @functools.wraps(target)
        def call(*args: Any, **kwargs: Any) -> Any:
            return call_with_retry(lambda: target(*args, **kwargs), self.policy, what=attr)

        return call

    # -- creates: look before retrying ---------------------------------------------------
    def _list(self, method: str, **kwargs: Any) -> Any:
        return call_with_retry(lambda: getattr(self.inner, method)(**kwargs), self.policy, what=method)

    def create_folder(self, name: str, *, description: str = "", metadata: dict | None = None,
                      parent_id: str | None = None):
        def find():
            for f in self._list("list_folders", search=name):
                if f.name == name and f.parent_id == parent_id:
                    return f
            return None

        return call_with_retry(
            lambda: self.inner.create_folder(name, description=description, metadata=metadata, parent_id=parent_id),
            self.policy, what=f"create folder {name!r}", recover=find)

    def create_dataset(self, title: str, *, description: str = ""):
        before = {d.id for d in self._list("list_datasets")}

        def find():
            return next((d for d in self._list("list_datasets")
                         if d.id not in before and d.title == title and d.description == description), None)

        return call_with_retry(lambda: self.inner.create_dataset(title, description=description),
                               self.policy, what=f"create dataset {title!r}", recover=find)

    def create_project(self, title: str, *, description: str, dataset_ids, ontology_id: str,
                       template_id: str | None = None):
        # by its description too: on the sandbox an indexed lookup when it holds a training marker
        before = {p.id for p in self._list("list_projects", search=title, description_contains=description)}

        def find():
            return next((p for p in self._list("list_projects", search=title, description_contains=description)
                         if p.id not in before and p.title == title and p.description == description), None)

        return call_with_retry(
            lambda: self.inner.create_project(title, description=description, dataset_ids=dataset_ids,
                                              ontology_id=ontology_id, template_id=template_id),
            self.policy, what=f"create project {title!r}", recover=find)

    def start_registration(self, folder_id: str, integration_id: str, manifest: dict, *,
                           ignore_errors: bool = True) -> str:
        # No call lists a folder's jobs, so a lost answer cannot be looked up: retry only when the
        # failure is known not to have acted.
        last: Transient | None = None
        for attempt in range(self.policy.attempts):
            if attempt:
                self.policy.sleep(self.policy.delay(attempt - 1, last))
            try:
                return self.inner.start_registration(folder_id, integration_id, manifest,
                                                     ignore_errors=ignore_errors)
            except Transient as err:
                if err.acted is not False:
                    raise Transient(
                        "the registration request timed out and may have started",
                        hint="check the folder's items before registering again; re-run with "
                             "skip_duplicate_urls set to avoid duplicates", acted=err.acted) from None
                last = err
        assert last is not None
        raise last
