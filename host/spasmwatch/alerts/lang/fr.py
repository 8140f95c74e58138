"""Français. "ceinture" for the band, "série" for a cluster (les spasmes surviennent en séries), "vous".
An alarm is "prise en charge" (someone is on it); a command named in a text is "elle" (la commande)."""

CATALOG: dict[str, str] = {
    "disclaimer": "spasmwatch est une aide au dépistage, pas un diagnostic.",
    "device": "{label} ({device})",
    "since": " depuis {time}",
    "of": " de {time}",
    "waking.unknown": "heure du réveil inconnue",
    "waking.after": "{min} min après le réveil",
    "spasms.one": "{n} mouvement de type spasme",
    "spasms.other": "{n} mouvements de type spasme",
    "span.s": "{n} s",
    "span.min": "{n} min",
    "warning.title": "À surveiller : {spasms}",
    "warning.text": "{spasms} rapprochés{since}. Si un troisième suit, spasmwatch déclenchera l'alarme de série. "
    "Vous pouvez aller voir le bébé, téléphone prêt à filmer.",
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
    "closed.title": "Série terminée{alarm}",
    "closed.title.open": ", alarme NON prise en charge",
    "closed.title.acknowledged": ", alarme prise en charge{by}",
    "closed.title.unanswered": ", alarme jamais prise en charge",
    "closed.by": " par {by}",
    "closed.over": " sur {span}",
    "closed.start": ", début à {time}",
    "closed.alarm.open": "Personne n'a encore pris en charge l'alarme : allez voir le bébé, puis prenez-la en charge "
    "sur la page spasmwatch. ",
    "closed.alarm.acknowledged": "L'alarme a été prise en charge{by}. ",
    "closed.alarm.unanswered": "Personne n'a pris en charge l'alarme. ",
    "closed.text": "Série terminée : {spasms}{over}{start}. {alarm}Notez ce que vous avez vu. Si cela recommence, "
    "filmez et montrez les vidéos à votre pédiatre.",
    "merged.title": "Même série qu'une alarme précédente",
    "merged.text": "Les mouvements de cette alarme appartiennent à la série{since}, déjà signalée : une seule série, "
    "pas deux ({spasms} jusqu'ici). Elle se poursuit sous l'alarme précédente ; rien de plus à faire pour celle-ci.",
    # new 2026-12-07, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "late.title": "Série antérieure, à {time}",
    "late.text": "Connue seulement maintenant (les données de la ceinture sont arrivées en retard) : {spasms} en "
    "série{over}, début à {time}, {waking}. Elle est terminée : rien à filmer maintenant. Notez ce dont vous vous "
    "souvenez de ce moment et parlez-en à votre pédiatre. {disclaimer}",
    "false_alarm.title": "Fausse alarme",
    "false_alarm.text": "{by} a marqué la série{of} comme fausse alarme. Rien à faire.",
    "test_alarm.title": "Alarme de test, rien de détecté",
    "test_alarm.text": "Ceci est un test des alarmes de spasmwatch, envoyé par {by} à {time}. Aucun spasme n'a été "
    "détecté. Ce test est bien arrivé : les alarmes parviennent donc à ce téléphone ou à ce haut-parleur. Une vraie alarme "
    "demande aussi une ceinture chargée, portée et connectée, et ne vient que si spasmwatch détecte une série ; il "
    "en manque certaines. Si vous voyez des spasmes, filmez-les et contactez votre pédiatre.",
    "fault.disconnected.title": "Ceinture déconnectée",
    "fault.disconnected.text": "Aucune donnée de la ceinture : les spasmes ne peuvent pas être détectés. Vérifiez "
    "qu'elle est chargée et à portée de cet ordinateur.",
    "fault.disconnected.here.text": "Aucune donnée de la ceinture : les spasmes ne peuvent pas être détectés. Le "
    "problème vient de cet ordinateur, pas de la ceinture : il ne peut pas utiliser le Bluetooth (pas d'adaptateur "
    "Bluetooth, ou le service Bluetooth n'est pas lancé). 'spasmwatch status' sur cet ordinateur indique quoi faire.",
    "fault.disconnected.fault.text": "Aucune donnée de la ceinture : les spasmes ne peuvent pas être détectés. La "
    "ceinture répond mais ne peut pas être utilisée tant que personne n'intervient (l'appairer de nouveau, ou une "
    "mise à jour) : la page web, ou 'spasmwatch status' sur cet ordinateur, indique quoi faire.",
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
    "fault.storage_failing.text": "Cet ordinateur ne peut pas enregistrer les événements de la ceinture (disque plein ou débranché ?). "
    "Les alarmes fonctionnent toujours et la ceinture garde ses événements jusqu'à ce qu'ils puissent être "
    "enregistrés : libérez de l'espace ou rebranchez le disque.",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "fault.storage_failing.rename.text": "Cet ordinateur ne peut pas mettre à jour le fichier où il enregistre les événements de la "
    "ceinture : quelqu'un y a ajouté à la main une colonne que cette version de spasmwatch ajoute elle-même. Rien n'y est "
    "enregistré. Les alarmes fonctionnent toujours et la ceinture garde ses événements. Pour corriger, sur cet ordinateur : "
    "arrêtez spasmwatch, lancez {command} (elle renomme cette colonne et garde son contenu), puis redémarrez spasmwatch.",
    "fault.store_damaged.title": "Le fichier des événements est endommagé",
    "fault.store_damaged.text": "Le fichier où cet ordinateur enregistre les événements de la ceinture est endommagé : "
    "rien n'y est enregistré. Les alarmes fonctionnent toujours et la ceinture garde ses événements. Pour le réparer, "
    "sur cet ordinateur : arrêtez spasmwatch, lancez {command} (elle indique comment arrêter spasmwatch "
    "s'il tourne encore), puis redémarrez spasmwatch.",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "fault.store_damaged.copy.text": "Le fichier où cet ordinateur enregistre les événements de la ceinture a été modifié à la "
    "main et a perdu une partie de chaque événement : rien n'y est enregistré, et aucune réparation ne peut le récupérer. "
    "Les alarmes fonctionnent toujours et la ceinture garde ses événements. Sur cet ordinateur : arrêtez spasmwatch, puis "
    "remettez une copie du fichier faite avant la modification. Sans copie : mettez le fichier de côté (gardez-le) et "
    "lancez {command}, qui en crée un nouveau, vide. Puis redémarrez spasmwatch ('spasmwatch status' donne les étapes).",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "fault.store_damaged.backup.text": "Le fichier où cet ordinateur enregistre les événements de la ceinture a été modifié à "
    "la main et a perdu une partie de chaque événement : rien n'y est enregistré, et aucune réparation ne peut le récupérer. "
    "Les alarmes fonctionnent toujours et la ceinture garde ses événements. spasmwatch garde une sauvegarde quotidienne du "
    "fichier : sur cet ordinateur, arrêtez spasmwatch, lancez {command} (elle remet la sauvegarde la plus récente et garde le "
    "fichier modifié à côté), puis redémarrez spasmwatch : la ceinture renvoie les événements qu'elle garde encore.",
    # new 2026-12-07, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "fault.store_damaged.unreadable.text": "Le fichier où cet ordinateur enregistre les événements de la ceinture est "
    "illisible (ce n'est pas un fichier de base de données) : rien n'y est enregistré, et aucune réparation ne peut le "
    "lire. Les alarmes fonctionnent toujours et la ceinture garde ses événements. Sur cet ordinateur : arrêtez spasmwatch, "
    "lancez {command} (il met le fichier de côté, conservé), puis redémarrez spasmwatch : il en crée un nouveau, vide, et "
    "la ceinture renvoie les événements qu'elle garde encore.",
    "fault.store_newer.title": "Le fichier des événements demande un spasmwatch plus récent",
    "fault.store_newer.text": "Le fichier où cet ordinateur enregistre les événements de la ceinture a été modifié par une version plus récente de "
    "spasmwatch, que celle-ci ne peut pas écrire : rien n'y est enregistré. Les alarmes fonctionnent toujours et la ceinture "
    "garde ses événements. Si spasmwatch vient d'être mis à jour, redémarrez-le ; s'il a été remis à une version plus "
    "ancienne, mettez-le à jour de nouveau.",
    "fault.band_log_failing.title": "La ceinture ne peut pas enregistrer",
    "fault.band_log_failing.text": "La ceinture n'a pas pu enregistrer dans sa mémoire un mouvement détecté, et ces "
    "mouvements ne sont pas non plus envoyés ici : des spasmes peuvent être manqués. Redémarrez la ceinture ; si "
    "cela revient, réinstallez son firmware (spasmwatch flash) ou remplacez-la.",
    "fault.samples_lost.title": "La ceinture perd des données de mouvement",
    "fault.samples_lost.text": "La ceinture perd sans cesse une partie de ses données de mouvement depuis "
    "plusieurs minutes (elle ne suit plus son capteur). Elle détecte toujours, mais un spasme à ces moments-là "
    "pourrait être manqué. Si cela continue, redémarrez la ceinture ; si cela revient ensuite, réinstallez son "
    "firmware (spasmwatch flash) ou remplacez-la.",
    "fault.other_bonds.title": "Un autre appareil est appairé à la ceinture",
    "fault.other_bonds.text": "Un autre appareil est appairé à la ceinture {band} ({n}). S'il n'est pas l'un des "
    "vôtres (un deuxième ordinateur ou un téléphone que vous avez appairé), lancez "
    "`spasmwatch bonds --revoke-others`.",
    "fault.radio_late.title": "La radio de la ceinture a démarré en retard",
    "fault.radio_late.text": "La radio de la ceinture {band} n'a pas démarré à l'allumage et n'a fonctionné qu'environ "
    "{n} min plus tard : c'est pourquoi elle apparaissait déconnectée. La ceinture a continué à surveiller et a gardé ce "
    "qu'elle a détecté entre-temps, et l'envoie ici maintenant ; une série qui s'y trouve est signalée comme tardive, "
    "aucune alarme ne pouvant vous parvenir radio éteinte. Une seule fois ne demande rien.",
    "fault.radio_late.again.text": "La radio de la ceinture {band} n'a de nouveau pas démarré à l'allumage et n'a "
    "fonctionné qu'environ {n} min plus tard : c'est pourquoi elle apparaissait déconnectée. La ceinture a continué à "
    "surveiller et a gardé ce qu'elle a détecté entre-temps, et l'envoie ici maintenant ; une série qui s'y trouve est "
    "signalée comme tardive, aucune alarme ne pouvant vous parvenir radio éteinte. Comme c'est déjà arrivé, éteignez et "
    "rallumez la ceinture ; si cela arrive souvent, voir docs/firmware.md (démarrer la radio d'abord).",
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
    "cleared.store_damaged.title": "Événements de nouveau enregistrés",
    "cleared.store_damaged.text": "Cet ordinateur peut de nouveau ouvrir son fichier des événements et enregistre ceux de la ceinture.",
    "cleared.store_newer.title": "Événements de nouveau enregistrés",
    "cleared.store_newer.text": "Cet ordinateur peut de nouveau ouvrir son fichier des événements et enregistre ceux de la ceinture.",
    "cleared.band_log_failing.title": "La ceinture enregistre de nouveau",
    "cleared.band_log_failing.text": "La ceinture enregistre de nouveau ses événements (elle a été redémarrée).",
    "cleared.samples_lost.title": "La ceinture ne perd plus de données",
    "cleared.samples_lost.text": "La ceinture ne perd plus de données de mouvement.",
    "cleared.other_bonds.title": "Aucun autre appareil appairé",
    "cleared.other_bonds.text": "Seul cet ordinateur est maintenant appairé à la ceinture.",
    "cleared.radio_late.title": "Radio de la ceinture en marche",
    "cleared.radio_late.text": "La radio de la ceinture fonctionne : la ceinture est connectée.",
    "summary.title": "Résumé du jour : {clusters} en 24 h",
    "summary.title_none": "Résumé du jour : aucune série en 24 h, {worn}",
    "summary.clusters.one": "{n} série",
    "summary.clusters.other": "{n} séries",
    "summary.more": " et {n} de plus",
    "summary.outside.one": " et {n} de plus en dehors",
    "summary.outside.other": " et {n} de plus en dehors",
    "summary.counts": "{clusters} ({times}{more}) avec {spasms}{outside}",
    "summary.counts_none": "aucune série, {spasms}",
    "summary.last_day": "Dernières 24 h : {counts} ; {worn}.",
    "summary.title_unmonitored": "Résumé du jour : pas de surveillance ces dernières 24 h",
    "summary.last_day_unmonitored": "Dernières 24 h : pas de surveillance ({worn}) : rien n'a été compté.",
    "summary.worn_none": "aucune donnée de la ceinture",
    "summary.worn_h": "ceinture portée {n} h",
    "summary.worn_min": "ceinture portée {n} min",
    "summary.quiet.one": "Aucune série depuis {n} jour ({h} h de surveillance).",
    "summary.quiet.other": "Aucune série depuis {n} jours ({h} h de surveillance).",
    "summary.yesterday": "hier",
    "summary.days_ago": "il y a {n} jours",
    "summary.treatment": "Depuis le début du traitement par {drug} ({ago}) : {after} séries par 24 h de surveillance "
    "({before} avant).",
    "summary.treatment_same": "Depuis le début du traitement par {drug} ({ago}) : {after} séries par 24 h de surveillance "
    "({before} avant : à peu près pareil).",
    "summary.treatment_few": "Depuis le début du traitement par {drug} ({ago}) : encore trop peu d'heures de surveillance "
    "pour comparer ({after} h depuis, {before} h avant ; {need} h nécessaires pour chaque période).",
    "summary.stopped": "Arrêt de {drug} {ago} : le taux porte sur les jours jusque-là.",
    "summary.hours_differ": "La ceinture a été portée à d'autres heures de la journée avant et après le début ; les séries "
    "viennent surtout au réveil, donc les taux peuvent différer pour cette seule raison.",
    "summary.treatment_doctor": "Seules comptent les heures où la ceinture était portée et connectée ; c'est à votre "
    "pédiatre de juger si le traitement fonctionne.",
    "decimal_mark": ",",
    "summary.video": "Gardez les vidéos et parlez-en à votre pédiatre.",
    "summary.zones": "Fuseau horaire sur les dernières 24 h : {zones} ; les heures ici sont celles du fuseau {here}.",
    "summary.zone_unnamed": "un fuseau horaire sans nom",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "summary.zone_not_known": "inconnu avant {time} : la version de spasmwatch d'alors n'en a pas enregistré le nom",
    # ---- la page de la famille (daemon/web/app.js)
    "page.connecting": "Connexion…",
    "page.current_alert": "Alerte en cours",
    "page.band": "Ceinture",
    "page.bands": "Ceintures",
    "page.loading": "Chargement…",
    "page.last24h": "Dernières 24 heures",
    "page.clusters_today": "Séries d'aujourd'hui",
    "page.no_clusters": "Aucune série aujourd'hui.",
    "page.clusters_help": "Merci de marquer chaque série : {confirmed} si vous avez vu des spasmes, {false_alarm} "
    "sinon. Le relevé pour le médecin en sera meilleur.",
    "page.last14": "14 derniers jours",
    "page.legend_clusters": "Séries",
    "page.legend_false": "Fausses alarmes",
    "page.notes": "Notes",
    "page.what_happened": "Que s'est-il passé ?",
    "page.kind.video": "Vidéo prise",
    "page.kind.medication": "Médicament donné",
    "page.kind.note": "Note",
    "page.details": "Détails",
    "page.optional": "(facultatif)",
    "page.required": "(obligatoire)",
    "page.note_placeholder": "p. ex. filmé 2 minutes avec le téléphone",
    "page.save_note": "Enregistrer la note",
    "page.today_notes": "Aujourd'hui",
    "page.no_notes": "Aucune note aujourd'hui.",
    "page.disclaimer": "spasmwatch est une aide au dépistage, pas un diagnostic. Si vous êtes inquiet pour votre "
    "bébé, filmez les mouvements et contactez votre pédiatre.",
    "page.who": "Votre nom sur ce téléphone",
    "page.who_hint": "(enregistré avec les prises en charge, marquages et notes)",
    "page.who_placeholder": "p. ex. Maman",
    "page.screen.keep": "Garder l'écran allumé",
    "page.screen.stop": "Laisser l'écran se verrouiller",
    "page.screen.off": "L'écran du téléphone se verrouille comme d'habitude ; un téléphone verrouillé n'affiche plus les "
    "alarmes de cette page (les notifications arrivent toujours).",
    "page.screen.on": "L'écran reste allumé tant que cette page est ouverte au premier plan.",
    "page.screen.paused": "L'écran peut se verrouiller tant que cette page est cachée ; il reste de nouveau allumé quand "
    "vous y revenez.",
    "page.screen.refused": "Le téléphone ne garde pas l'écran allumé (ses réglages pour ce site l'interdisent peut-être) "
    ": réglez plutôt une mise en veille plus longue dans les réglages du téléphone.",
    "page.screen.needs_https": "Pour garder l'écran allumé, cette page doit être ouverte en https:// : sur l'ordinateur "
    "où tourne spasmwatch, lancez 'spasmwatch config tls new', redémarrez spasmwatch et ouvrez l'adresse https:// que "
    "donne 'spasmwatch status'.",
    "page.screen.unsupported": "Ce navigateur ne peut pas garder l'écran allumé : réglez une mise en veille plus longue "
    "dans les réglages du téléphone.",
    "page.test_alarm": "Envoyer une alarme de test",
    "page.test_alarm_help": "Vérifie qu'une alarme arrive sur chaque téléphone et haut-parleur configuré ; "
    "elle dit que ce n'est qu'un test.",
    "page.fault.disconnected": "Déconnectée",
    "page.fault.not_worn": "Non portée",
    "page.fault.battery_low": "Batterie faible",
    "page.fault.log_nearly_full": "Mémoire de la ceinture presque pleine",
    "page.fault.clock_unsynced": "Horloge non réglée",
    "page.fault.safe_mode": "Ceinture en mode sans échec",
    "page.fault.sensor_error": "Erreur du capteur",
    "page.fault.storage_failing": "Impossible d'enregistrer les événements (disque plein ou débranché ?)",
    "page.fault.store_damaged": "Fichier des événements endommagé : arrêtez spasmwatch, lancez {command}",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.fault.store_damaged.copy": "Fichier des événements privé de données qu'aucune réparation ne récupère : arrêtez "
    "spasmwatch, remettez une copie d'avant, ou mettez le fichier de côté et lancez {command}",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.fault.storage_failing.rename": "Fichier des événements avec une colonne ajoutée à la main que cette version ajoute : "
    "arrêtez spasmwatch, lancez {command}",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.fault.store_damaged.backup": "Fichier des événements privé de données qu'aucune réparation ne récupère : arrêtez "
    "spasmwatch et remettez la dernière sauvegarde quotidienne avec {command}",
    "page.fault.store_damaged.unreadable": "Fichier des événements illisible, aucune réparation ne le lit : arrêtez "
    "spasmwatch, mettez-le de côté avec {command}, démarrez spasmwatch (il en crée un nouveau)",
    "page.fault.store_newer": "Fichier des événements d'un spasmwatch plus récent : redémarrez spasmwatch, ou mettez-le à jour",
    "page.fault.band_log_failing": "La ceinture ne peut pas enregistrer les événements",
    "page.fault.samples_lost": "La ceinture perd des données de mouvement",
    "page.fault.other_bonds": "Autre appareil appairé : spasmwatch bonds --revoke-others s'il n'est pas à vous",
    "page.fault.radio_late": "Radio en retard à l'allumage : événements gardés, envoyés ici",
    "page.state.connected": "Connectée",
    "page.state.silent": "Connectée, muette",
    "page.state.out_of_reach": "Hors de portée, nouvel essai",
    "page.state.disconnected": "Déconnectée",
    "page.state.needs_attention": "Demande votre attention",
    "page.unknown": "Inconnu",
    "page.under_minute": "moins d'une minute",
    "page.min": "{m} min",
    "page.h": "{h} h",
    "page.h_min": "{h} h {m} min",
    "page.just_now": "à l'instant",
    "page.ago": "il y a {span}",
    "page.band_fallback": "ceinture",
    "page.access_expired": "Accès expiré : ouvrez à nouveau le lien avec le jeton.",
    "page.cannot_reach": "spasmwatch est injoignable : ce que vous voyez n'est peut-être plus à jour.",
    # new 2026-12-08, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.store_unreadable": "spasmwatch ne peut pas lire son fichier des événements pour l'instant : ce que vous voyez n'est peut-être plus à jour.",
    "page.last_update": "Dernière mise à jour à {time}.",
    "page.offline": "Hors ligne",
    "page.live": "En direct",
    "page.reconnecting": "Reconnexion…",
    "page.refreshing": "Mise à jour toutes les 10 s",
    "page.updated": "Mis à jour {time}",
    "page.ack": "Prendre en charge",
    "page.ack_label": "Prendre en charge : {title}",
    "page.alert_fallback": "alerte",
    "page.acking": "Prise en charge…",
    "page.since": "depuis {time}",
    "page.after_waking": "{min} min après le réveil",
    "page.waking_unknown": "heure du réveil inconnue",
    "page.cluster_title": "Possible série de spasmes",
    "page.acked": "Prise en charge.",
    "page.acked_by": "Prise en charge par {by}.",
    "page.marked_false": "Marquée comme fausse alarme.",
    "page.seen_by": "Vue par {by}.",
    "page.no_alert": "Aucune alerte pour l'instant.",
    "page.band_alerts.one": "{n} alerte de ceinture",
    "page.band_alerts.other": "{n} alertes de ceinture",
    "page.show_band_alerts": "Afficher",
    "page.hide_band_alerts": "Masquer",
    "page.not_saved": "Non enregistré : {error}",
    "page.alert_over": "Cette alerte était déjà terminée : plus rien à faire pour elle.",
    "page.alert_over_acked": "Cette alerte était déjà terminée ; {by} l'avait prise en charge.",
    "page.ack_not_open": "Cette alerte n'est plus ouverte : rien n'a été enregistré (le fichier des événements ne peut pas être lu pour l'instant). "
    "Si elle réapparaît, prenez-la en charge à ce moment-là.",
    "page.no_band": "Aucune ceinture n'est encore configurée.",
    "page.yes": "Oui",
    "page.not_on_baby": "Non — pas sur le bébé",
    "page.asleep": "Endormi",
    "page.awake": "Éveillé",
    "page.asleep_since": "Endormi depuis {time}",
    "page.awake_since": "Éveillé depuis {time}",
    "page.for": "depuis {span}",
    "page.last_known": "dernière valeur connue à {time} ({seen})",
    "page.never": "jamais",
    "page.battery": "Batterie",
    "page.worn": "Portée",
    "page.sleep": "Sommeil",
    "page.last_heard": "Dernières nouvelles de la ceinture : {seen}",
    "page.band_problems": "Problèmes de la ceinture",
    "page.not_connecting": "Pas de connexion : {error}.",
    "page.raw_paused": "Enregistrement brut en pause depuis {time} : {why}. Les événements et les alarmes continuent.",
    # new 2026-12-06, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.link_unstable": "Liaison instable : coupée {n} fois en {min} min. Les événements arrivent à chaque reconnexion, "
    "les alarmes avec le retard des secondes sans liaison : rebranchez le câble ou rapprochez la ceinture.",
    # new 2026-12-07, not yet read by a native speaker (docs/alerts.md "Native speakers, please review")
    "page.rate_not_taken": "Échantillonne à {hz} Hz, pas aux {configured} Hz configurés : l'IMU ou le firmware de la ceinture "
    "ne peut pas tenir cette fréquence. La surveillance continue ; vérifiez rate_hz dans la configuration ou mettez à jour "
    "le firmware de la ceinture.",
    "page.firmware_old": "Le firmware de la ceinture n'est pas celui du spasmwatch de cet ordinateur : flashez-la avec "
    "celui de cet ordinateur ('spasmwatch flash'). La surveillance continue.",
    "page.firmware_newer": "Le firmware de la ceinture est plus récent que le spasmwatch de cet ordinateur : mettez à "
    "jour le spasmwatch de cet ordinateur ('git pull', puis 'make install') plutôt que de flasher la ceinture. La "
    "surveillance continue.",
    "page.muted": "Avis de la ceinture suspendus jusqu'à {time}{by} (les alarmes de série sonnent toujours).",
    "page.muted_tomorrow": "Avis de la ceinture suspendus jusqu'à demain {time}{by} (les alarmes de série sonnent "
    "toujours).",
    "page.muted_by": " par {by}",
    "page.end_mute": "Finir la suspension maintenant",
    "page.end_mute_label": "Finir maintenant la suspension de {band}",
    "page.channels_failing": "Les notifications ne passent pas sur {channels}.",
    "page.channel_failing": "{channel} (depuis {time} : {error})",
    "page.channels_check_net": "Vérifiez la connexion internet de cet ordinateur et les réglages du canal, "
    "puis envoyez une alarme de test (ci-dessous).",
    "page.channels_check": "Vérifiez les réglages du canal, puis envoyez une alarme de test (ci-dessous).",
    "page.channels_changed": "Modifié depuis son échec : rien ne garantit qu'il fonctionne avant son prochain envoi : {channels}. "
    "Envoyez une alarme de test (ci-dessous).",
    "page.channel_changed": "{channel} (en échec à {time} : {error})",
    "page.channels_others": "Les autres canaux ({channels}) ne sont pas en panne.",
    "page.channels_none": "Aucun canal ne fonctionne : une alarme n'atteint personne en ce moment. Tant qu'aucun ne "
    "marche, spasmwatch ne peut pas vous prévenir d'une série.",
    "page.heartbeat_failing": "en échec depuis {time} : {error}",
    "page.heartbeat": "Le signal de vie vers {host} est {why}.",
    "page.heartbeat_held": "Le signal de vie vers {host} est retenu : {why}.",
    "page.heartbeat_off": "Si cet ordinateur s'éteint maintenant, personne n'est prévenu ; son service dira bientôt "
    "que la surveillance est arrêtée.",
    "page.store_error": "Le fichier des événements ne peut pas être ouvert (depuis {time}) : {error}. Les alarmes "
    "fonctionnent toujours et les ceintures gardent leurs événements jusqu'à son ouverture ; spasmwatch réessaie chaque minute.",
    "page.config_error": "La modification de la configuration n'a pas été appliquée (depuis {time}) : {error}. "
    "La surveillance continue avec la configuration qu'elle avait ; corrigez le fichier, puis lancez "
    "{command} (elle dit si la modification a été appliquée ; pour le service installé, "
    "systemctl --user reload spasmwatch fait de même sans message).",
    "page.ongoing": "en cours",
    "page.label_cluster": "Marquer la série de {time}",
    "page.confirmed": "Confirmée",
    "page.false_alarm": "Fausse alarme",
    "page.chart": "Séries par jour sur les {days} derniers jours : {total} en tout ; fausses alarmes : {false}.",
    "page.chart_today": "Séries par jour sur les {days} derniers jours : {total} en tout ; fausses alarmes : {false} ; "
    "aujourd'hui : {today}.",
    "page.today": "aujourd'hui",
    "page.clusters.one": "{n} série",
    "page.clusters.other": "{n} séries",
    "page.false_alarms.one": "{n} fausse alarme",
    "page.false_alarms.other": "{n} fausses alarmes",
    "page.no_data": "aucune donnée : la ceinture n'était pas portée ou pas connectée",
    "page.no_band_heard": "Aucune ceinture ne s'est encore manifestée.",
    "page.write_first": "Écrivez d'abord la note.",
    "page.saving": "Enregistrement…",
    "page.saved_at": "Enregistrée à {time}.",
    "page.test_sending": "Envoi d'une alarme de test sur chaque canal…",
    "page.test_sent": "Envoyée sur {channels} : vérifiez qu'elle est arrivée.",
    "page.test_heard": "{channel} : jouée sur cet ordinateur : l'avez-vous entendue ? (Le lecteur a tourné, ce qui ne montre pas "
    "qu'un haut-parleur est branché et le volume monté.)",
    "page.test_failed": "NON transmise sur {channel} : {error}.",
    "page.test_not_sent": "Test non envoyé : {error}",
    "page.noscript": "Cette page a besoin de JavaScript pour montrer l'état de la ceinture.",
    "page.tech": "Détails techniques",
    "page.why.here": "cet ordinateur ne peut pas utiliser le Bluetooth (pas d'adaptateur Bluetooth, ou le service "
    "Bluetooth n'est pas lancé) ; 'spasmwatch status' sur cet ordinateur indique quoi faire",
    "page.why.not_found": "la ceinture est introuvable : hors de portée, éteinte ou connectée à un autre ordinateur",
    "page.why.timeout": "la ceinture ne répond pas à temps",
    "page.why.refused": "la ceinture refuse la connexion (occupée avec un autre ordinateur ?)",
    "page.why.disconnected": "la connexion a été coupée",
    "page.why.auth": "la ceinture refuse l'appairage",
    "page.why.io": "la connexion signale une erreur",
    "page.fault_detail.not_bonded": "Non appairée : la ceinture n'accepte de nouveaux appairages que dans les {min} "
    "premières minutes après sa mise en marche : éteignez-la et rallumez-la, puis attendez que spasmwatch se connecte.",
    "page.fault_detail.pairing_refused": "La ceinture refuse l'appairage : si elle a été effacée ou son firmware réinstallé, "
    "retirez-la dans les réglages Bluetooth de cet ordinateur, puis éteignez-la et rallumez-la.",
    "page.fault_detail.band_refused": "La ceinture a refusé une commande : redémarrez-la ; si cela revient, mettez à "
    "jour son firmware.",
    "page.fault_detail.update_host": "Le firmware de la ceinture est plus récent que spasmwatch sur cet ordinateur "
    "(version de protocole {band}, ici {host}) : mettez à jour spasmwatch sur cet ordinateur.",
    "page.fault_detail.update_band": "Le firmware de la ceinture est plus ancien que spasmwatch sur cet ordinateur "
    "(version de protocole {band}, ici {host}) : réinstallez le firmware de la ceinture avec le spasmwatch de cet ordinateur "
    "('spasmwatch flash').",
    "page.raw.low_disk": "{free} libres sur {mount}, {keep} gardés pour les événements",
    "page.raw.cannot_write": "impossible d'écrire {path} : {error}",
    "page.held.store_refuses": "le fichier des événements refuse les écritures ({bands}) : des événements seraient perdus",
    "page.notices": "À corriger (la surveillance continue en attendant)",
    "page.exposure.short_token": "page web : le jeton du réseau local est court ({n} caractères) ; {min} ou plus est "
    "plus sûr : 'spasmwatch config set daemon.http.token new' en crée un (lu au démarrage de la surveillance : redémarrez-la, "
    "puis ouvrez sur chaque téléphone le lien qu'affiche 'spasmwatch status')",
    "page.exposure.plain_page": "page web : servie sur le réseau de la maison en clair (HTTP) : qui écoute le wifi lit "
    "le lien de connexion et le cookie (et peut avec eux prendre en charge les alarmes) et l'état du bébé. 'spasmwatch config tls "
    "new' crée un certificat pour HTTPS (redémarrez ensuite le moniteur, et acceptez le certificat une fois sur chaque "
    "téléphone)",
    "page.exposure.short_topic": "[channels.ntfy #{i}] ({channel}) : son sujet a {n} caractères, moins de {min} : qui "
    "le devine lit chaque notification (le nom de la ceinture, les séries) et peut envoyer de fausses alarmes. 'spasmwatch "
    "config add-ntfy new' en crée un que personne ne devine (abonnez-y ensuite les téléphones)",
    "page.exposure.plain_ntfy": "[channels.ntfy #{i}] ({channel}) : {origin} en clair, ni sur cet ordinateur ni sur le "
    "réseau de la maison : chaque notification (le nom de la ceinture, les séries) traverse internet sans chiffrement, "
    "lisible par qui se trouve sur le chemin. Mettez son adresse https:// dans la configuration",
    "page.exposure.plain_ntfy_token": "[channels.ntfy #{i}] ({channel}) : {origin} en clair, ni sur cet ordinateur ni "
    "sur le réseau de la maison : chaque notification (le nom de la ceinture, les séries) et son jeton d'accès traversent "
    "internet sans chiffrement, lisibles par qui se trouve sur le chemin. Mettez son adresse https:// dans la "
    "configuration",
    "page.exposure.plain_webhook": "[channels.webhook #{i}] ({channel}) : {origin} en clair, ni sur cet ordinateur ni "
    "sur le réseau de la maison : chaque alerte qu'il reçoit (le nom de la ceinture, les séries) traverse internet sans "
    "chiffrement, lisible par qui se trouve sur le chemin. Mettez son adresse https:// dans la configuration",
    "page.exposure.mqtt_no_tls": "[channels.mqtt] : son mot de passe part en clair vers {broker} (tls = false), ainsi "
    "que chaque état : qui écoute le réseau de la maison lit les deux. Mettez tls = true (le port TLS du broker, "
    "8883 le plus souvent ; docs/alerts.md \"mqtt\")",
    "page.exposure.mqtt_no_login": "[channels.mqtt] : pas de nom d'utilisateur, donc le broker sur {broker} accepte les "
    "clients sans identifiant : qui l'atteint sur le réseau peut prendre en charge une alarme (commands = true) et lire "
    "chaque état. Configurez un identifiant sur le broker (username et password ici), ou mettez commands = false",
    "page.exposure.past_bound": "{file}, ligne {line} : [{table}] {setting} = {value} dépasse sa limite ({bound}), pris comme "
    "{taken} : {why}. Écrivez {taken} (ou une valeur dans la limite) dans le fichier pour que cet avis disparaisse",
    "page.bound_why.escalate_after_s": "une alarme que personne n'acquitte va à chaque téléphone avant ce délai ; plus tard, "
    "son son s'est arrêté et personne d'autre n'en entend parler",
    "page.bound_why.rate_limit_s": "un défaut de la ceinture est redit au moins aussi souvent ; au-delà d'une heure, une "
    "ceinture qui décroche de nouveau plus tard dans la nuit n'est pas signalée pendant des heures",
    "page.bound_why.quiet_hours": "des heures calmes plus longues qu'une nuit et la soirée d'avant retiennent les défauts de la "
    "ceinture pendant que la famille est éveillée",
    "page.bound_why.repeat_every_s": "une alarme que personne n'acquitte sonne au moins deux fois en ses 10 minutes (0 la "
    "fait sonner une fois)",
    "page.bound_why.repeat_every_s_min": "plus rapprochés, les sons s'empilent les uns sur les autres",
    "page.bound_why.repeat_for_s": "une alarme que personne n'acquitte est close en quelques heures : plus long est une "
    "erreur, pas un choix",
    "page.bound_why.backup_keep_days": "chaque copie pèse tout le fichier des événements, sur son disque, et un disque rempli de copies "
    "empêche d'enregistrer les événements",
    "page.bound_why.raw_keep_days": "au-delà d'un an la valeur veut dire ce que dit 0 : garder chaque fichier brut",
    "page.old_code": "La surveillance en cours a démarré avec un autre code que celui installé maintenant (mis à "
    "jour depuis son démarrage) : redémarrez-la : {restart}. Elle continue en attendant, avec le code de son démarrage.",
    "page.restart_by_hand": "arrêtez 'spasmwatch run' (Ctrl+C) et relancez-la",
    "page.config_restart": "Réglages modifiés dans le fichier de configuration, appliqués seulement au démarrage de la "
    "surveillance : {keys}. Redémarrez la surveillance : {restart}. Elle continue en attendant, avec les réglages de son "
    "démarrage.",
    "locked.title": "spasmwatch : l'accès demande le lien avec le jeton",
    "locked.text": "Cette page est protégée. Ouvrez le lien avec {link} que {command} affiche sur l'ordinateur où "
    "tourne spasmwatch (ou demandez à qui l'a installé). Le téléphone s'en souvient ensuite.",
}
