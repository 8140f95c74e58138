"""Français. "ceinture" for the band, "série" for a cluster (les spasmes surviennent en séries), "vous"."""

CATALOG: dict[str, str] = {
    "disclaimer": "spasmwatch est une aide au dépistage, pas un diagnostic.",
    "device": "{label} ({device})",
    "since": " depuis {time}",
    "of": " de {time}",
    "waking.unknown": "heure du réveil inconnue",
    "waking.after": "{min} min après le réveil",
    "spasms.one": "{n} contraction soudaine",
    "spasms.other": "{n} contractions soudaines",
    "span.s": "{n} s",
    "span.min": "{n} min",
    "warning.title": "Attention : {n} mouvements de type spasme",
    "warning.text": "{spasms} rapprochées{since}. Si une troisième suit, spasmwatch déclenchera l'alarme de série. "
    "Vous pouvez aller voir le bébé.",
    "alarm.title": "ALARME : possible série de spasmes",
    "alarm.text": "{spasms} en série{since}, {waking}. Filmez le bébé maintenant si cela continue, "
    "et contactez votre pédiatre. {disclaimer}",
    "update.title": "La série continue : {n} mouvements",
    "update.text": "La série continue : {spasms}{since}. Continuez à filmer si vous pouvez. {disclaimer}",
    "escalated.title": "ALARME SANS RÉPONSE : possible série de spasmes",
    "escalated.text": "Personne n'a pris en charge l'alarme depuis {span}. {spasms} en série{since}, {waking}. "
    "Allez voir le bébé maintenant, filmez si cela continue, et contactez votre pédiatre. {disclaimer}",
    "acknowledged.title": "Alarme prise en charge par {by}",
    "acknowledged.text": "{by} s'occupe de l'alarme de {device}.",
    "closed.title": "Série terminée",
    "closed.over": " sur {span}",
    "closed.start": ", début à {time}",
    "closed.text": "Série terminée : {n} mouvements de type spasme{over}{start}. Notez ce que vous avez vu "
    "et gardez les vidéos pour votre pédiatre.",
    "false_alarm.title": "Fausse alarme",
    "false_alarm.text": "{by} a marqué la série{of} comme fausse alarme. Rien à faire.",
    "test_alarm.title": "Alarme de test, rien de détecté",
    "test_alarm.text": "Ceci est un test des alarmes de spasmwatch, envoyé par {by} à {time}. Aucun spasme n'a été "
    "détecté. Il est arrivé : les alarmes parviennent donc à ce téléphone ou à ce haut-parleur. Une vraie alarme "
    "demande aussi une ceinture chargée, portée et connectée, et ne vient que si spasmwatch détecte une série ; il "
    "en manque certaines. Si vous voyez des spasmes, filmez-les et contactez votre pédiatre.",
    "fault.disconnected.title": "Ceinture déconnectée",
    "fault.disconnected.text": "Aucune donnée de la ceinture : les spasmes ne peuvent pas être détectés. Vérifiez "
    "qu'elle est chargée et à portée de cet ordinateur.",
    "fault.disconnected.here.text": "Aucune donnée de la ceinture : les spasmes ne peuvent pas être détectés. Le "
    "problème vient de cet ordinateur, pas de la ceinture : il ne peut pas utiliser le Bluetooth (pas d'adaptateur "
    "Bluetooth, ou le service Bluetooth n'est pas lancé). 'spasmwatch status' sur cet ordinateur indique quoi faire.",
    "fault.not_worn.title": "Ceinture non portée",
    "fault.not_worn.text": "Ceinture non portée : vérifiez qu'elle est bien ajustée sur la poitrine du bébé, "
    "capteur devant.",
    "fault.battery_low.title": "Batterie de la ceinture faible",
    "fault.battery_low.text": "Batterie de la ceinture faible : rechargez-la bientôt. À 3 % elle ne détecte plus "
    "jusqu'à sa recharge.",
    "fault.log_nearly_full.title": "Mémoire de la ceinture presque pleine",
    "fault.log_nearly_full.text": "Le journal d'événements de la ceinture est presque plein : approchez-la de cet "
    "ordinateur pour qu'elle puisse envoyer ses événements.",
    "fault.clock_unsynced.title": "Horloge de la ceinture non réglée",
    "fault.clock_unsynced.text": "L'horloge de la ceinture n'est pas synchronisée : les heures des événements peuvent "
    "être fausses jusqu'à ce qu'elle se connecte à cet ordinateur.",
    "fault.safe_mode.title": "Ceinture en mode sans échec",
    "fault.safe_mode.text": "La ceinture a redémarré en mode sans échec et ne détecte pas : redémarrez-la, et mettez "
    "à jour son firmware si cela se reproduit.",
    "fault.sensor_error.title": "Erreur du capteur de la ceinture",
    "fault.sensor_error.text": "Le capteur de mouvement de la ceinture signale une erreur et elle ne détecte pas : "
    "redémarrez la ceinture.",
    "fault.storage_failing.title": "Impossible d'enregistrer les événements",
    "fault.storage_failing.text": "Cet ordinateur ne peut pas enregistrer les événements de la ceinture (disque plein ?). "
    "Les alarmes fonctionnent toujours et la ceinture garde ses événements jusqu'à ce qu'ils puissent être "
    "enregistrés : libérez de l'espace.",
    "fault.band_log_failing.title": "La ceinture ne peut pas enregistrer",
    "fault.band_log_failing.text": "La ceinture n'a pas pu enregistrer dans sa mémoire un mouvement détecté, et ces "
    "mouvements ne sont pas non plus envoyés ici : des spasmes peuvent être manqués. Redémarrez la ceinture ; si "
    "cela revient, réinstallez son firmware (spasmwatch flash) ou remplacez-la.",
    "cleared.disconnected.title": "Ceinture reconnectée",
    "cleared.disconnected.text": "Ceinture reconnectée : la surveillance a repris.",
    "cleared.not_worn.title": "Ceinture de nouveau portée",
    "cleared.not_worn.text": "Ceinture de nouveau portée : la surveillance a repris.",
    "cleared.battery_low.title": "Batterie de la ceinture correcte",
    "cleared.battery_low.text": "La batterie de la ceinture est de nouveau correcte.",
    "cleared.log_nearly_full.title": "Mémoire de la ceinture correcte",
    "cleared.log_nearly_full.text": "La ceinture a envoyé ses événements ; son journal a de nouveau de la place.",
    "cleared.clock_unsynced.title": "Horloge de la ceinture réglée",
    "cleared.clock_unsynced.text": "L'horloge de la ceinture est de nouveau synchronisée.",
    "cleared.safe_mode.title": "La ceinture détecte de nouveau",
    "cleared.safe_mode.text": "La ceinture a quitté le mode sans échec et détecte de nouveau.",
    "cleared.sensor_error.title": "Capteur de la ceinture correct",
    "cleared.sensor_error.text": "Le capteur de mouvement de la ceinture fonctionne de nouveau.",
    "cleared.storage_failing.title": "Événements de nouveau enregistrés",
    "cleared.storage_failing.text": "Cet ordinateur enregistre de nouveau les événements de la ceinture.",
    "cleared.band_log_failing.title": "La ceinture enregistre de nouveau",
    "cleared.band_log_failing.text": "La ceinture enregistre de nouveau ses événements (elle a été redémarrée).",
    "summary.title": "Résumé du jour : {clusters} en 24 h",
    "summary.no_cluster": "aucune série",
    "summary.clusters.one": "{n} série",
    "summary.clusters.other": "{n} séries",
    "summary.spasms.one": "{n} mouvement de type spasme",
    "summary.spasms.other": "{n} mouvements de type spasme",
    "summary.more": " et {n} de plus",
    "summary.outside.one": " et {n} de plus en dehors",
    "summary.outside.other": " et {n} de plus en dehors",
    "summary.counts": "{clusters} ({times}{more}) avec {spasms}{outside}",
    "summary.counts_none": "aucune série, {spasms}",
    "summary.last_day": "Dernières 24 h : {counts} ; {worn}.",
    "summary.worn_none": "aucune donnée de la ceinture",
    "summary.worn_h": "ceinture portée {n} h",
    "summary.worn_min": "ceinture portée {n} min",
    "summary.quiet.one": "Aucune série depuis {n} jour.",
    "summary.quiet.other": "Aucune série depuis {n} jours.",
    "summary.yesterday": "hier",
    "summary.days_ago": "il y a {n} jours",
    "summary.treatment": "Depuis le début du traitement par {drug} ({ago}) : {after} séries par 24 h de surveillance "
    "({before} avant).",
    "summary.treatment_same": "Depuis le début du traitement par {drug} ({ago}) : {after} séries par 24 h de surveillance "
    "({before} avant : à peu près pareil).",
    "summary.treatment_few": "Depuis le début du traitement par {drug} ({ago}) : encore trop peu d'heures de surveillance "
    "pour comparer ({after} h depuis, {before} h avant ; {need} h nécessaires pour chaque période).",
    "summary.treatment_doctor": "Seules comptent les heures où la ceinture était portée et connectée ; c'est à votre "
    "pédiatre de juger si le traitement fonctionne.",
    "decimal_mark": ",",
    "summary.video": "Gardez les vidéos et parlez-en à votre pédiatre.",
}
