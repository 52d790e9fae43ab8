"""What the nox sessions, the benchmark and the tests share: one copy of each helper.

* ``processes``: free ports, process groups (start, alive, stop, kill), waiting for HTTP.
* ``index``: the package index URL, derived at run time.
* ``project_env``: the environment a generated project's own tools run in.
* ``debian``: installing a missing tool from Debian's packages.
* ``postgres``: a throwaway PostgreSQL server on 127.0.0.1.
* ``reporter``: the logging and failing a check needs (a ``nox.Session`` provides it).
* ``entity_api``: the HTTP contract of one added entity, called as a client would.
* ``reference_api``: the HTTP contract of a reference between two entities (customer, order).
* ``workflow``: the suggested workflow of one stack-matrix cell (the ``matrix`` sessions).
* ``postgres_cell``: that workflow on PostgreSQL, with its database checks (the ``pg`` sessions).
* ``wrk``: load runs with wrk and their figures.
"""
