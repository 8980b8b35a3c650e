"""The one error the local stack raises for anything a developer must fix (a busy port, a missing
tool, a service that would not start); `make dev` prints its message and exits."""


class StackError(RuntimeError):
    pass
