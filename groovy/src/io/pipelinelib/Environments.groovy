package io.pipelinelib

/**
 * What the Jenkins side knows about environments, read from the repository's pipelinelib.toml
 * (the map the pipelinelibEnvironments step returns: `pipelinelib environments --json`): which
 * are protected, how many approvals they need, who approves them and which lock serialises the
 * jobs that change a cluster. Every Jenkinsfile asks here; nothing names an environment itself.
 *
 * Lock names: a Lockable Resources lock per cluster, named exactly as the cluster (the Terraform
 * stack), so every job that applies or destroys appcluster-test (deploy-test, destroy-test) takes
 * lock('appcluster-test') and never runs at the same time. A store-side environment lock
 * (`pipelinelib lock E`) can later be taken inside it without renaming anything.
 */
class Environments implements Serializable {
    private static final long serialVersionUID = 1L

    /** The declared environment (a map of the environments file), or null when undeclared. */
    static Map declared(Map environments, Object environment) {
        Map all = environments?.environments instanceof Map ? (Map) environments.environments : [:]
        Object found = environment == null ? null : all[environment.toString()]
        return found instanceof Map ? (Map) found : null
    }

    /** Protected: deploys need approvals by someone other than the requester before apply. */
    static boolean isProtected(Map environments, Object environment) {
        Map found = declared(environments, environment)
        return found != null && found.protected == true && (found.approvals ?: 0) > 0
    }

    /** The names of the protected environments, in promotion order. */
    static List<String> protectedNames(Map environments) {
        List order = environments?.order instanceof List ? (List) environments.order : []
        return order.findAll { isProtected(environments, it) }.collect { it.toString() }
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
