"""The csc-warehouse nightly Airflow DAG (02:00 Europe/London).

Thin on purpose: every task's logic lives in the csc_warehouse package (dag_factory and
pipeline), so the scheduler and ``cscw run`` execute exactly the same code. (Airflow's
safe-mode parser only opens files that mention both "airflow" and "dag".)
"""

from csc_warehouse.dag_factory import build_nightly_dag

dag = build_nightly_dag()
