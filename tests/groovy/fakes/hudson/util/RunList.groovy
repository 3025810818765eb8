package hudson.util

import hudson.model.Result

/**
 * Mirrors hudson.util.RunList (Jenkins core, core/src/main/java/hudson/util/RunList.java): the
 * lazy newest-first build list; only completedOnly(), overThresholdOnly(Result), limit(int) and
 * iteration (collect) are offered.
 */
class RunList implements Iterable {
    private final List runs

    RunList(List runs) {
        this.runs = runs
    }

    /** Real: drops builds still running (Run.isBuilding()). */
    RunList completedOnly() {
        return new RunList(runs.findAll { !it.isBuilding() })
    }

    /** Real: keeps builds whose result is better or equal to the threshold. */
    RunList overThresholdOnly(Result threshold) {
        return new RunList(runs.findAll { it.getResult() != null && it.getResult().isBetterOrEqualTo(threshold) })
    }

    RunList limit(int n) {
        return new RunList(runs.take(n))
    }

    Iterator iterator() {
        return runs.iterator()
    }
}
