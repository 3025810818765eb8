package hudson.model

import hudson.util.RunList

/**
 * Mirrors hudson.model.Job (Jenkins core, core/src/main/java/hudson/model/Job.java) as a
 * WorkflowJob is one: getFullName(), getName(), getProperty(String className), getBuilds(),
 * getLastBuild(). Builds are newest first, as Jenkins keeps them.
 */
class Job {
    private final String fullName
    private final Map<String, Object> properties
    private final List<Run> builds

    Job(String fullName, List properties, List<Run> builds) {
        this.fullName = fullName
        this.properties = properties.collectEntries { [(it.getClass().getName()): it] }
        this.builds = builds
    }

    String getFullName() { fullName }

    String getName() { fullName.tokenize('/')[-1] }

    /** Real: the JobProperty whose class has that name, or null. */
    JobPropertyStandIn getProperty(String className) {
        return (JobPropertyStandIn) properties[className]
    }

    RunList getBuilds() { new RunList(builds) }

    Run getLastBuild() { builds ? builds[0] : null }
}
