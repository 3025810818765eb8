package jenkins.model

import hudson.util.DescribableList

/**
 * Mirrors jenkins.model.Jenkins (Jenkins core, core/src/main/java/jenkins/model/Jenkins.java):
 * only get(), getInstanceOrNull(), getItemByFullName(String, Class) and getGlobalNodeProperties().
 * The harness installs the controller's state through `install`, which is not a Jenkins method.
 */
class Jenkins {
    private static Jenkins theInstance
    private final Map<String, Object> items
    private final DescribableList globalNodeProperties

    private Jenkins(Map<String, Object> items, List globalNodeProperties) {
        this.items = items
        this.globalNodeProperties = new DescribableList(globalNodeProperties)
    }

    /** Test set-up only (a controller exists before any script runs). */
    static void install(Map<String, Object> items, List globalNodeProperties) {
        theInstance = new Jenkins(items, globalNodeProperties)
    }

    /** Real: throws IllegalStateException when Jenkins is not started. */
    static Jenkins get() {
        if (theInstance == null) {
            throw new IllegalStateException('Jenkins.instance is missing. Read the documentation of Jenkins.getInstanceOrNull to see what you are doing wrong.')
        }
        return theInstance
    }

    static Jenkins getInstanceOrNull() {
        return theInstance
    }

    /** Real: null when the item is missing, not of `type`, or not readable by the caller. */
    public <T> T getItemByFullName(String fullName, Class<T> type) {
        Object item = items[fullName]
        return type.isInstance(item) ? (T) item : null
    }

    DescribableList getGlobalNodeProperties() {
        return globalNodeProperties
    }
}
