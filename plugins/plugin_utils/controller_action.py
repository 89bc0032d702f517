# Copyright: escalator.swim contributors
# Apache License 2.0 (see LICENSE)
"""Base of the collection's action plugins: run a module's operation in the controller process.

PRIVATE to the collection. A module interpreter per task costs ~15x an action plugin on the
controller (docs/architecture.md), so every module of this collection runs here, in the worker
process Ansible forked for the task; the module file keeps the documentation and a ``main()``
for tools that bypass action plugins.
"""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import filter_loader, test_loader

from ansible_collections.escalator.swim.plugins.module_utils.ops.common import OperationContext, execute


def options_that_are_not_mappings(spec: dict, args: dict) -> dict[str, str]:
    """``{option as given: error}`` for options with sub-options given something other than a mapping (or
    its string form).

    ansible-core 2.19's validator raises TypeError from ``set_fallbacks`` on such values (``record: 712``)
    instead of reporting them, which would hide every other error of the task, unknown options included:
    these options are left out of the validation and their errors reported beside its own.
    """
    errors = {}
    for name, option in spec.items():
        if not option.get("options"):
            continue
        for key in (name, *option.get("aliases", ())):
            value = args.get(key)
            if value is None:
                continue
            values = value if option.get("type") == "list" and isinstance(value, list) else [value]
            if any(not isinstance(item, (dict, str)) for item in values):
                errors[key] = f"value of '{key}' must be of type dict, got {type(value).__name__}"
    return errors


def preload_jinja_plugins() -> None:
    """Load ansible-core's Jinja filter and test plugins once, in the controller's main process.

    The loaders fill a per-process cache of every filter and test plugin the first time a template
    uses one. The main process never did, so every forked worker loaded them all again for its task's
    templates (about a third of a ``snapshot`` host-task's profiled CPU, ``python -m swim_bench --profile``,
    docs/performance.md). Loaded here, when ansible-core loads this collection's first action plugin in
    the main process, the workers inherit the cache. A directory added to a loader later (a role's
    ``filter_plugins``) clears it as before, so which plugins a template sees does not change.
    """
    for loader in (filter_loader, test_loader):
        try:
            for _plugin in loader.all():
                pass
        except Exception:  # noqa: BLE001 -- an optimisation must never break loading the plugin
            pass


preload_jinja_plugins()


class ControllerAction(ActionBase):
    """Subclasses set OPERATION to one of ``module_utils.ops.*``.

    An operation may declare ``TASK_VARS``: option -> variable names tried in order when the task
    does not pass the option (e.g. ``{"device": ["inventory_hostname"]}``).
    """

    OPERATION = None
    TRANSFERS_FILES = False
    _requires_connection = False

    def argument_spec(self) -> dict:
        return dict(self.OPERATION.ARGUMENT_SPEC)

    def task_vars_map(self) -> dict:
        return dict(getattr(self.OPERATION, "TASK_VARS", {}))

    def _var(self, task_vars: dict, name: str):
        value = task_vars.get(name)
        return self._templar.template(value) if value is not None and value != "" else None

    def fill_from_vars(self, options: dict, var_names_by_option: dict, task_vars: dict) -> dict:
        """A copy of *options* where each unset option takes the first of its variables that is set."""
        filled = dict(options)
        for option, var_names in var_names_by_option.items():
            if filled.get(option) is not None:
                continue
            for var in ([var_names] if isinstance(var_names, str) else var_names):
                value = self._var(task_vars, var)
                if value is not None:
                    filled[option] = value
                    break
        return filled

    def task_args(self, task_vars: dict) -> dict:
        """Task args, completed from variables for every mapped option the task does not give."""
        return self.fill_from_vars(self._task.args, self.task_vars_map(), task_vars)

    def make_context(self, params: dict, task_vars: dict) -> OperationContext:
        return OperationContext(params, check_mode=bool(self._task.check_mode), diff=bool(self._task.diff))

    def finish(self, context: OperationContext, result: dict, task_vars: dict) -> None:
        """Hook run after the operation, success or failure."""

    def validation_rules(self) -> dict:
        return dict(self.OPERATION.VALIDATION_RULES)

    def invalid(self, task_vars: dict, messages: str) -> str:
        """The failure message of a task whose arguments do not validate."""
        return f"{task_vars.get('inventory_hostname', '?')}: invalid arguments: {messages}"

    def perform(self, params: dict, task_vars: dict, no_log_values, result: dict) -> None:
        """Run the task on validated *params*, updating *result* (default: the module's operation)."""
        context = self.make_context(params, task_vars)
        try:
            result.update(execute(self.OPERATION, context, no_log_values))
        finally:
            self.finish(context, result, task_vars)

    def run(self, tmp=None, task_vars=None):
        self._supports_check_mode = True
        self._supports_async = False
        result = super().run(tmp, task_vars)
        task_vars = task_vars or {}
        spec = self.argument_spec()
        args = self.task_args(task_vars)
        not_mappings = options_that_are_not_mappings(spec, args)
        messages = list(not_mappings.values())
        validator = ArgumentSpecValidator(spec, **self.validation_rules())
        try:
            validated = validator.validate({key: value for key, value in args.items() if key not in not_mappings})
        except (ArithmeticError, ValueError, TypeError) as exc:
            # ansible-core's type checkers let some conversions escape (int() of a list goes through
            # decimal.Decimal's tuple form and raises OverflowError): still a clean failed task.
            messages.append(f"a value cannot be converted to its type ({type(exc).__name__})")
            result.update(failed=True, changed=False, msg=self.invalid(task_vars, "; ".join(messages)))
            return result
        if validated.error_messages:      # (`errors` itself is always truthy)
            messages += [f"unsupported parameter {error}" if isinstance(error, UnsupportedError) else str(error)
                         for error in validated.errors]
        if messages:
            result.update(failed=True, changed=False, msg=self.invalid(task_vars, "; ".join(messages)))
            return result
        self.perform(validated.validated_parameters, task_vars, validated._no_log_values, result)
        return result
