"""Best-effort network guard for grading kernels where no network namespace is available.

Put on ``PYTHONPATH`` of a grading kernel by
:class:`course_utils.grading.plugins.kernel.SandboxedKernelManager` only when
:func:`course_utils.grading.plugins.sandbox.detect` finds no isolation. Python code
in the kernel then cannot open a connection to anything but this machine.
Code that undoes the patch, or native code, is not stopped: that needs the
network namespace the sandbox uses where it can.
"""

import socket as _socket

_LOCAL_PREFIXES = ("127.", "::1", "localhost", "0.0.0.0")
_original_connect = _socket.socket.connect
_original_connect_ex = _socket.socket.connect_ex
_original_create_connection = _socket.create_connection


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths are local
        return True
    return str(address[0]).startswith(_LOCAL_PREFIXES)


def _refuse(address):
    raise OSError(101, f"network access is disabled while grading: {address[0]}")


def _connect(self, address):
    if not _is_local(address):
        _refuse(address)
    return _original_connect(self, address)


def _connect_ex(self, address):
    if not _is_local(address):
        return 101
    return _original_connect_ex(self, address)


def _create_connection(address, *args, **kwargs):
    if not _is_local(address):
        _refuse(address)
    return _original_create_connection(address, *args, **kwargs)


_socket.socket.connect = _connect
_socket.socket.connect_ex = _connect_ex
_socket.create_connection = _create_connection
