package io.pipelinelib

/**
 * The Jenkins side's ONE declaration of which environments are protected, who approves them and
 * which lock serialises the jobs that change a cluster. Every Jenkinsfile asks here; nothing else
 * names an environment. (Issue 14 re-points PROTECTED at the repository's pipelinelib.toml.)
 *
 * Lock names: a Lockable Resources lock per cluster, named exactly as the cluster (the Terraform
 * stack), so every job that applies or destroys appcluster-test (deploy-test, destroy-test) takes
 * lock('appcluster-test') and never runs at the same time. A store-side environment lock
 * (`pipelinelib lock E`) can later be taken inside it without renaming anything.
 */
class Environments implements Serializable {
    private static final long serialVersionUID = 1L

    /** Environments whose deploys need a person's approval (input step) before anything runs. */
    static final List<String> PROTECTED = ['staging', 'live'].asImmutable()

    static boolean isProtected(Object environment) {
        return environment != null && PROTECTED.contains(environment.toString())
    }

    /** The Jenkins group (or comma-separated users) allowed to approve a deploy of `environment`. */
    static String approvers(Object environment) {
        return "${environment}-deployers".toString()
    }

    /** The Lockable Resources resource of a cluster: its name, so lock('<cluster>') everywhere. */
    static String lockResource(Object cluster) {
        String problem = Args.problemWithPattern(cluster, Args.STACK_PATTERN, 'cluster name')
        if (problem != null) {
            throw new IllegalArgumentException(problem)
        }
        return cluster.toString()
    }
}
