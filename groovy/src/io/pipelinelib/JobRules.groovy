package io.pipelinelib

/**
 * Checks of the values a job definition fixes (single-value choice parameters), made again at run
 * time so a hand-edited job, a replay or a REST trigger cannot point a build at another host.
 * Each returns null when the value is fine, or the message for error().
 */
class JobRules implements Serializable {
    private static final long serialVersionUID = 1L

    /** An ECR registry host: ACCOUNT.dkr.ecr.REGION.amazonaws.com (or .amazonaws.com.cn), nothing else. */
    static final String ECR_REGISTRY_PATTERN = '^[0-9]{12}\\.dkr\\.ecr\\.[a-z]{2}(-[a-z]+)+-[0-9]\\.amazonaws\\.com(\\.cn)?$'
    /** A git remote: git@host:owner/repo.git or https://host/owner/repo(.git). */
    static final String GIT_REPO_PATTERN = '^(git@[A-Za-z0-9.-]+:|https://[A-Za-z0-9.-]+/)[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*(\\.git)?$'
    /** A Jenkins credentials id as the credentials plugin generates or admins write them. */
    static final String CREDENTIALS_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$'
    /** A branch name git accepts, without option-like or revision-range forms. */
    static final String BRANCH_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_./-]{0,199}$'

    static String problemWithServiceBuild(Map params) {
        return Args.problemWithService(params.SERVICE_NAME) ?:
            problemWith(params.ECR_REGISTRY, ECR_REGISTRY_PATTERN, 'ECR registry (ACCOUNT.dkr.ecr.REGION.amazonaws.com)') ?:
            problemWith(params.SERVICE_REPO, GIT_REPO_PATTERN, 'service repository') ?:
            problemWith(params.SERVICE_CREDENTIALS, CREDENTIALS_ID_PATTERN, 'credentials id') ?:
            problemWithBranch(params.SERVICE_BRANCH) ?:
            Args.problemWithPattern(params.AWS_REGION, Args.REGION_PATTERN, 'region')
    }

    static String problemWithBranch(Object value) {
        String problem = problemWith(value, BRANCH_PATTERN, 'branch')
        if (problem == null && (value.toString().contains('..') || value.toString().endsWith('/') ||
                value.toString().endsWith('.lock'))) {
            problem = "invalid branch ${Args.describe(value)}"
        }
        return problem
    }

    private static String problemWith(Object value, String pattern, String what) {
        return Args.problemWithPattern(value, pattern, what)
    }
}
